pub mod engine;
pub mod stack;
pub mod state;
