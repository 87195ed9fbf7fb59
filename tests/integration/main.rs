//! Integration tests: the binary on fixtures, the shared corpus and the examples; the store
//! under SIGKILL; readers under arbitrary bytes.

mod architecture;
mod assets;
mod blancco;
mod certificate;
mod cli;
mod codes;
mod corpus;
mod diff;
mod evaluate;
mod fixtures;
mod fleet;
mod hostile;
mod kandji;
mod kill;
mod leavers;
mod mapping;
mod oscal;
mod osquery;
mod pack;
mod props;
mod pull;
mod report;
mod sample;
mod scale;
mod truth;
mod tsa;
mod util;
