// npm start. The launcher that runs the devnet, an embedded PostgreSQL and the three
// processes is not written yet; until it is, say so plainly rather than pretend.
console.error(
  [
    "tronpay: the one-command launcher is not built yet.",
    "What runs today: `npm run devnet` (the local TRON node) and `npx tronpay signer --help`.",
    "See README.md, section Status.",
  ].join("\n"),
);
process.exit(1);
