//! Integration tests of plumbline-quality: one binary, one module per topic.

mod aggregate;
mod agreement;
mod bias;
mod bradley_terry;
mod decision;
mod drift;
mod gold;
mod properties;
mod reliability;
mod sim;
mod special;
mod vectors;
