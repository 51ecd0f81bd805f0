//! `/proc/pressure/memory`: the share of time tasks stalled waiting for memory.

/// Percentages over 10 s and 60 s; `full` is absent from some kernels' files.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pressure {
    pub some_avg10: f64,
    pub some_avg60: f64,
    pub full_avg10: Option<f64>,
    pub full_avg60: Option<f64>,
}

/// TODO(helper): `None` when there is no readable `some` line.
pub fn parse_pressure(_text: &[u8]) -> Option<Pressure> {
    None
}
