//! How an axis maps values to positions, and where its ticks go.

/// How an axis maps values to positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Evenly spaced values.
    Linear,
    /// Decades evenly spaced; values at or below zero are drawn at the axis' bottom.
    Log,
    /// Quantiles from 0 to 1 as 0 %, 90 %, 99 %, 99.9 %... evenly spaced, so a
    /// percentile curve shows its tail as wide as its median.
    Nines,
}

impl Scale {
    pub(super) fn map(self, v: f64) -> f64 {
        match self {
            Scale::Linear => v,
            Scale::Log => v.max(1e-9).log10(),
            Scale::Nines => -(1.0 - v.clamp(0.0, 1.0 - 1e-9)).log10(),
        }
    }

    /// The drawn range (in mapped units) covering `lo..=hi`, and its ticks with labels.
    pub(super) fn ticks(self, lo: f64, hi: f64) -> ((f64, f64), Vec<(f64, String)>) {
        match self {
            Scale::Linear => {
                let (lo, hi) = if hi > lo {
                    (lo.min(0.0), hi)
                } else {
                    (lo - 1.0, hi + 1.0)
                };
                let raw = (hi - lo) / 6.0;
                let magnitude = 10f64.powf(raw.log10().floor());
                let step = [1.0, 2.0, 5.0, 10.0]
                    .iter()
                    .map(|m| m * magnitude)
                    .find(|s| *s >= raw);
                let step = step.unwrap_or(raw);
                let (first, last) = ((lo / step).floor() as i64, (hi / step).ceil() as i64);
                let ticks = (first..=last).map(|i| (i as f64 * step, short(i as f64 * step)));
                ((first as f64 * step, last as f64 * step), ticks.collect())
            }
            Scale::Log => {
                let (first, last) = (
                    lo.floor() as i64,
                    (hi.ceil() as i64).max(lo.floor() as i64 + 1),
                );
                let mut ticks = Vec::new();
                for decade in first..=last {
                    let base = 10f64.powi(decade as i32);
                    ticks.push((decade as f64, short(base)));
                    if last - first <= 2 && decade < last {
                        ticks.extend([2.0, 5.0].map(|m| ((m * base).log10(), short(m * base))));
                    }
                }
                ((first as f64, last as f64), ticks)
            }
            Scale::Nines => {
                let last = (hi.ceil() as i64).max(1);
                let label = |n: i64| match n {
                    0 => "0%".to_owned(),
                    1 => "90%".to_owned(),
                    n => format!("99.{}%", "9".repeat(n as usize - 2)).replace(".%", "%"),
                };
                (
                    (0.0, last as f64),
                    (0..=last).map(|n| (n as f64, label(n))).collect(),
                )
            }
        }
    }
}

/// A number as short as it can be written: 0.01, 0.5, 2, 250, 1e+06.
fn short(v: f64) -> String {
    if v != 0.0 && (v.abs() >= 1e6 || v.abs() < 1e-3) {
        return format!("{v:e}");
    }
    let text = format!("{v:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_numbers() {
        let (_, ticks) = Scale::Linear.ticks(0.0, 9.3);
        let labels: Vec<String> = ticks.into_iter().map(|t| t.1).collect();
        assert_eq!(labels, ["0", "2", "4", "6", "8", "10"]);
        let (range, ticks) = Scale::Nines.ticks(0.0, 2.5);
        assert_eq!(range, (0.0, 3.0));
        assert_eq!(ticks[3].1, "99.9%");
        assert_eq!(short(0.25), "0.25");
    }
}
