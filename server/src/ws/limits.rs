//! A token bucket: how many messages a socket may send, with bursts of twice the rate.

use std::time::Instant;

/// Allows `rate` messages per second on average and bursts of `2 * rate`.
pub(super) struct RateLimit {
    rate: f64,
    capacity: f64,
    tokens: f64,
    refilled: Instant,
}

impl RateLimit {
    /// A full bucket for `rate` messages per second.
    pub(super) fn per_second(rate: u32) -> Self {
        let capacity = f64::from(rate) * 2.0;
        Self {
            rate: f64::from(rate),
            capacity,
            tokens: capacity,
            refilled: Instant::now(),
        }
    }

    /// Takes a token at `now`; false when the bucket is empty.
    pub(super) fn allow(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.capacity);
        self.refilled = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_burst_of_twice_the_rate_passes_then_the_rate_refills() {
        let start = Instant::now();
        let mut limit = RateLimit::per_second(10);
        assert_eq!((0..25).filter(|_| limit.allow(start)).count(), 20);
        assert!(!limit.allow(start));
        let later = start + Duration::from_millis(500);
        assert_eq!((0..10).filter(|_| limit.allow(later)).count(), 5);
    }
}
