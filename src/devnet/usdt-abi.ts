/**
 * The devnet USDT contract's ABI in java-tron's `getcontract` JSON form (capitalised type and
 * state-mutability names, as java-tron prints them; tronweb lower-cases them itself).
 */

type Param = { name: string; type: string; indexed?: boolean };

function fn(
  name: string,
  inputs: Param[],
  outputs: Param[],
  mutability: "View" | "Nonpayable",
): Record<string, unknown> {
  return {
    ...(mutability === "View" ? { constant: true } : {}),
    inputs,
    name,
    outputs,
    stateMutability: mutability,
    type: "Function",
  };
}

const addr = (name: string, indexed?: boolean): Param =>
  indexed === undefined ? { name, type: "address" } : { indexed, name, type: "address" };
const uint = (name: string): Param => ({ name, type: "uint256" });

/** ABI entries (`abi.entrys`) of the devnet TRC-20 USDT. */
export const USDT_ABI_ENTRIES: readonly Record<string, unknown>[] = [
  fn("name", [], [{ name: "", type: "string" }], "View"),
  fn("symbol", [], [{ name: "", type: "string" }], "View"),
  fn("decimals", [], [{ name: "", type: "uint8" }], "View"),
  fn("totalSupply", [], [uint("")], "View"),
  fn("balanceOf", [addr("who")], [uint("")], "View"),
  fn("allowance", [addr("owner"), addr("spender")], [uint("remaining")], "View"),
  fn("transfer", [addr("_to"), uint("_value")], [{ name: "", type: "bool" }], "Nonpayable"),
  fn("approve", [addr("_spender"), uint("_value")], [{ name: "", type: "bool" }], "Nonpayable"),
  fn(
    "transferFrom",
    [addr("_from"), addr("_to"), uint("_value")],
    [{ name: "", type: "bool" }],
    "Nonpayable",
  ),
  {
    anonymous: false,
    inputs: [
      addr("from", true),
      addr("to", true),
      { indexed: false, name: "value", type: "uint256" },
    ],
    name: "Transfer",
    type: "Event",
  },
  {
    anonymous: false,
    inputs: [
      addr("owner", true),
      addr("spender", true),
      { indexed: false, name: "value", type: "uint256" },
    ],
    name: "Approval",
    type: "Event",
  },
];
