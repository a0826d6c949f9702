//! Integration tests of plumbline-quality: one binary, one module per topic.

mod aggregate;
mod agreement;
mod bias;
mod bradley_terry;
mod drift;
mod gold;
mod properties;
mod sim;
mod vectors;
