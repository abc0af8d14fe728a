//! Pure writers from the model to other report formats.

pub mod ctrf;
pub mod junit;
