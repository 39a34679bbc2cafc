//! A ballot's choice: nothing (withdrawn), one option, or a set of options of a
//! multiple-choice poll. A value type (`Copy`), so the batch planner compares and moves
//! choices as cheaply as it did single options.
//!
//! A set is stored as bits (bit `i`: option `i`), which is why a multiple-choice poll has
//! at most [`MAX_SET_OPTIONS`] options. A single-choice poll's ballots are always
//! [`Choice::One`] and a multiple-choice poll's always [`Choice::Set`] (see
//! [`Choice::for_poll`]), so two equal choices are equal values.

use super::StoreError;

/// The most options a multiple-choice poll may have: its sets are 63 bits.
pub const MAX_SET_OPTIONS: u32 = 63;

/// What a voter chose.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Choice {
    /// No vote (a withdrawal).
    #[default]
    None,
    /// One option of a single-choice poll.
    One(u32),
    /// Options of a multiple-choice poll, as bits; never 0.
    Set(u64),
}

impl Choice {
    /// The choice of `options` as a client sent them: one, or a set without repeats of
    /// options below [`MAX_SET_OPTIONS`]. `None` when it is no valid choice.
    pub fn of(options: &[u32]) -> Option<Self> {
        match options {
            [] => None,
            [one] => Some(Self::One(*one)),
            many => {
                let mut bits = 0u64;
                for &option in many {
                    let bit = 1u64
                        .checked_shl(option)
                        .filter(|_| option < MAX_SET_OPTIONS)?;
                    if bits & bit != 0 {
                        return None;
                    }
                    bits |= bit;
                }
                Some(Self::Set(bits))
            }
        }
    }

    /// This choice on a poll of `options` options that takes at most `max_choices` of
    /// them: the same options in the poll's form (one, or a set), or why it cannot be.
    pub fn for_poll(self, options: u32, max_choices: u32) -> Result<Self, StoreError> {
        let chosen = self.options();
        if chosen.iter().any(|&option| option >= options) {
            return Err(StoreError::OptionOutOfRange { options });
        }
        if chosen.len() as u32 > max_choices {
            return Err(StoreError::TooManyChoices { max: max_choices });
        }
        Ok(match (self, max_choices) {
            (Self::None, _) => Self::None,
            (_, 1) => Self::One(chosen[0]),
            _ => Self::Set(
                chosen
                    .iter()
                    .fold(0u64, |bits, &option| bits | 1u64 << option),
            ),
        })
    }

    /// The options chosen, in index order.
    pub fn options(self) -> Vec<u32> {
        match self {
            Self::None => Vec::new(),
            Self::One(option) => vec![option],
            Self::Set(bits) => (0..MAX_SET_OPTIONS)
                .filter(|i| bits >> i & 1 == 1)
                .collect(),
        }
    }

    /// The first option chosen, if any.
    pub fn lowest(self) -> Option<u32> {
        match self {
            Self::None => None,
            Self::One(option) => Some(option),
            Self::Set(bits) => Some(bits.trailing_zeros()),
        }
    }

    /// True for a vote (not a withdrawal).
    pub fn is_some(self) -> bool {
        self != Self::None
    }

    /// As a vote row stores it: its lowest option, and the set's bits (`None` for a
    /// single-choice poll's row, as rows were before multiple choice).
    pub fn to_row(self) -> Option<(i64, Option<i64>)> {
        let lowest = i64::from(self.lowest()?);
        let bits = match self {
            Self::Set(bits) => Some(bits as i64),
            _ => None,
        };
        Some((lowest, bits))
    }

    /// A vote row's choice.
    pub fn from_row(option: i64, bits: Option<i64>) -> Self {
        match bits {
            Some(bits) => Self::Set(bits as u64),
            None => Self::One(option as u32),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_sends_one_option_or_a_set_without_repeats() {
        assert_eq!(Choice::of(&[2]), Some(Choice::One(2)));
        assert_eq!(Choice::of(&[3, 0]), Some(Choice::Set(0b1001)));
        assert_eq!(Choice::of(&[]), None);
        assert_eq!(Choice::of(&[1, 1]), None, "a repeat");
        assert_eq!(Choice::of(&[1, 63]), None, "past the bits of a set");
    }

    #[test]
    fn a_choice_takes_the_polls_form_or_is_refused() {
        assert_eq!(Choice::One(1).for_poll(3, 2), Ok(Choice::Set(0b10)));
        assert_eq!(Choice::Set(0b10).for_poll(3, 1), Ok(Choice::One(1)));
        assert_eq!(Choice::Set(0b101).for_poll(3, 2), Ok(Choice::Set(0b101)));
        assert_eq!(
            Choice::Set(0b111).for_poll(3, 2),
            Err(StoreError::TooManyChoices { max: 2 })
        );
        assert_eq!(
            Choice::Set(0b1001).for_poll(3, 3),
            Err(StoreError::OptionOutOfRange { options: 3 })
        );
        assert_eq!(Choice::None.for_poll(3, 2), Ok(Choice::None));
    }

    #[test]
    fn a_row_stores_the_lowest_option_and_a_sets_bits() {
        for choice in [Choice::One(4), Choice::Set(0b110)] {
            let (option, bits) = choice.to_row().unwrap();
            assert_eq!(Choice::from_row(option, bits), choice);
        }
        assert_eq!(Choice::Set(0b110).to_row(), Some((1, Some(6))));
        assert_eq!(Choice::Set(0b110).options(), vec![1, 2]);
        assert_eq!(Choice::None.to_row(), None);
    }
}
