// Public chain data used as test vectors; each entry says where it was taken from. These are
// facts about real transactions (or a real block), not outputs of our own code.

/** A real, signed transaction as a node reports it. */
export interface RealTx {
  source: string;
  txId: string;
  rawHex: string;
  signature?: string;
  owner: string;
}

/** Nile testnet USDT transfer (TRON.md). Its call data writes 0x41 inside the address word. */
export const NILE_TRC20_TRANSFER: RealTx = {
  source: "TRON.md (Nile testnet)",
  txId: "c70b20da8cb8d96a99c1aceb283412acb9dea313a9e467178431a3c6ae8b9f08",
  rawHex:
    "0a028ad92208eaef69105495eb1540f09fc0cfcd335aae01081f12a9010a31747970652e676f6f676c65617069732e636f6d2f70726f746f636f6c2e54726967676572536d617274436f6e747261637412740a1541495511a493d8c362be4267224e6d81013a6862ee121541eca9bc828a3005b9a3b909f2cc5c2a54794de05f2244a9059cbb00000000000000000000004150125bea243a640bf85348873b6c4f3c517aee7a00000000000000000000000000000000000000000000000000000000000000017090cbbccfcd33900180c2d72f",
  signature:
    "1788bf0281f67c42f5a09322523edee9969e808a863776f21ab6543de9dd42ca0e4955577879df8074086c620eb96709ba9a95d60a166de190a081e8d69801da00",
  owner: "41495511a493d8c362be4267224e6d81013a6862ee",
};

/** Mainnet 10 TRX transfer (TRON.md). */
export const MAINNET_TRX_TRANSFER: RealTx = {
  source: "TRON.md (mainnet)",
  txId: "9af0e3805223aab73e947414cb2ddd1221e9d4708fa39e8c4957ba19520fad94",
  rawHex:
    "0a02884b2208b62601a071cb8eb140a8ae8ff784325a68080112640a2d747970652e676f6f676c65617069732e636f6d2f70726f746f636f6c2e5472616e73666572436f6e747261637412330a15415f2c42079ef9870cc37c19317ef5e37e51851bee121541e342a962f683ce59a31c016c3a89d92480db81211880ade20470c8d98bf78432",
  owner: "415f2c42079ef9870cc37c19317ef5e37e51851bee",
};

/** Mainnet FreezeBalanceV2 (ENERGY, 1 TRX), block 59867342. */
export const MAINNET_FREEZE_V2: RealTx = {
  source:
    "github.com/LedgerHQ/ledger-live libs/coin-modules/coin-tron/src/network/types.fixture.ts (TronGrid response)",
  txId: "10a748b856b46356ed8d7ae96f2b540dd40870f073981689c2f758e3359bbc94",
  rawHex:
    "0a0280b9220863e75a2a561115d940a0da8791e3315a59083612550a34747970652e676f6f676c65617069732e636f6d2f70726f746f636f6c2e467265657a6542616c616e63655632436f6e7472616374121d0a154105cc125604448afeb6867eb688efb7e80411d57a10c0843d18017085978491e331",
  signature:
    "fe1bf4d1099e90b98f21992a6eedb53fcd165ef7c825e1013c668d5303ca7c16324ce81cedb2a6bef43acc8527a46db335b8dcb4199edfef67683c613d98bb1e01",
  owner: "4105cc125604448afeb6867eb688efb7e80411d57a",
};

/** Mainnet UnDelegateResource (ENERGY, 1 TRX), block 59844955. */
export const MAINNET_UNDELEGATE: RealTx = {
  source:
    "github.com/LedgerHQ/ledger-live libs/coin-modules/coin-tron/src/network/types.fixture.ts (TronGrid response)",
  txId: "f5c9797248fe446157d089404c6d25da68b1c33ccd4d7c213eb4c603d014411c",
  rawHex:
    "0a022946220859d63421af64447d40b8bdf1f0e2315a73083a126f0a37747970652e676f6f676c65617069732e636f6d2f70726f746f636f6c2e556e44656c65676174655265736f75726365436f6e747261637412340a154105cc125604448afeb6867eb688efb7e80411d57a100118c0843d221541a2ff80f95ce3740235dc46a4dffe00d9f9b91f3770c6ffedf0e231",
  signature:
    "0489edb9b57e097ae30c85021dca62f8f665ef30e9c623e5f74c1386e5629b9f5cf8d16e1bddd6510e4346bfbfa15c493716ac9e876d451b0afe03ddf8e2614901",
  owner: "4105cc125604448afeb6867eb688efb7e80411d57a",
};

/** Mainnet 1 sun TRX transfer with the memo "luke" in raw.data. */
export const MAINNET_TRX_WITH_MEMO: RealTx = {
  source: "github.com/tronprotocol/tronweb issue #279 (node JSON quoted by a maintainer)",
  txId: "c9449eb0842890e9b5a7aaa8979d8e7ca66a45f61068e56ac92f21433c59008a",
  rawHex:
    "0a02b5302208f8878f20d184f98b40a09bf2cfac3052046c756b655a65080112610a2d747970652e676f6f676c65617069732e636f6d2f70726f746f636f6c2e5472616e73666572436f6e747261637412300a1541e68570a74f01cb77c44dbbd93977d7800344eace121541985fcc765e42a5fbade70a194bf09c24692a2cec180170e7d5eecfac30",
  signature:
    "b50c390beee220977ba63c320bb2328a91583fc03248f3279c5422cf50a993eea84fa8798f58875b237f4e1776507db3ac5a225c0a21ffec52732157f5d884c001",
  owner: "41e68570a74f01cb77c44dbbd93977d7800344eace",
};

/**
 * Mainnet USDT transfer in block 78861100 as a full protobuf Transaction (raw_data, one
 * signature, and a ret entry with contractRet SUCCESS).
 */
export const MAINNET_USDT_FULL = {
  source: "github.com/bitquery/blockchain-cloud-data-dump-sample tron/transactions.js",
  txId: "e122cba603b48ee234807f91859a04dbc4728f1b215d5c9c05385733bca674bc",
  transactionHex:
    "0ad3010a025313220846a60be20a563ff140c0b7e9c0b7335aae01081f12a9010a31747970652e676f6f676c65617069732e636f6d2f70726f746f636f6c2e54726967676572536d617274436f6e747261637412740a1541db5f3f3a9798f3d1f89b2f12b6acda2fb3c91f80121541a614f803b6fd780986a42c78ec9c7f77e6ded13c2244a9059cbb00000000000000000000000029228e5d382b7a2c2a0dbc05e6d6507f4dbb3bbe0000000000000000000000000000000000000000000000000000000001cfe2eb70e7d3d3c0b733900180c2d72f124199560ec38b72b17cb7d409b3a7799ee2486f85d37d1d93c382264a4bc57864744f90d2053c6da8cbf8e15f88cb6cc7c12629272c0b834d1c0f3002710bc2fdeb012a021801",
  owner: "TVy95wrbDgQ8NA3XT8qKqwC6YBsFTPHtFF",
  usdt: "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",
};

/** Mainnet block 78861100's header fields and id. */
export const MAINNET_BLOCK_78861100 = {
  source: "github.com/bitquery/blockchain-cloud-data-dump-sample tron/blocks.js",
  number: 78861100n,
  id: "0000000004b3532cbc14c910020c3ae5336f5607d6aa194abb3e6df264297e8a",
  parentId: "0000000004b3532bbf50c7ec18ad8985176f507a15c48d2a583bc8e5130c9e67",
  timestampMs: 1767246213000n,
  txTrieRoot: "a0f6d785015f72fe721b394a6eae5d5bf931b2e1884331164fcc591ce477e4e8",
  version: 32,
  witness: "TDpt9adA6QidL1B1sy3D8NC717C6L5JxFo",
};
