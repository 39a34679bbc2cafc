//! Connections open per client address (WebSocket sessions, plain HTTP connections),
//! counted like the node's own [`Sessions`](crate::sessions): a place is taken when
//! one opens and given back when it ends, so the cap holds however many opens race. An
//! address with none open has no entry, so the map is as large as what is open at most.

use std::net::IpAddr;
use std::sync::Arc;

use dashmap::DashMap;
use dashmap::mapref::entry::Entry;

/// Open connections by address bucket.
#[derive(Debug, Default)]
pub(super) struct Connections {
    open: Arc<DashMap<IpAddr, usize>>,
}

/// One connection's place in its address's count; dropping it gives the place back.
#[derive(Debug)]
pub(crate) struct AddressGuard {
    open: Arc<DashMap<IpAddr, usize>>,
    key: IpAddr,
}

impl Connections {
    /// A place for one more connection of `key`, unless it holds `max` already.
    pub(super) fn admit(&self, key: IpAddr, max: usize) -> Option<AddressGuard> {
        let mut count = self.open.entry(key).or_insert(0);
        if *count >= max {
            return None;
        }
        *count += 1;
        drop(count);
        Some(AddressGuard {
            open: self.open.clone(),
            key,
        })
    }

    /// Addresses with at least one connection open.
    #[cfg(test)]
    fn addresses(&self) -> usize {
        self.open.len()
    }
}

impl Drop for AddressGuard {
    fn drop(&mut self) {
        // Decremented and removed under the entry's lock: a racing admit sees either
        // the old count or no entry, never a removed one.
        if let Entry::Occupied(mut count) = self.open.entry(self.key) {
            *count.get_mut() -= 1;
            if *count.get() == 0 {
                count.remove();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_stops_at_the_cap_and_a_closed_session_frees_its_place() {
        let connections = Connections::default();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let first = connections.admit(a, 2).expect("room for two");
        let _second = connections.admit(a, 2).expect("room for two");
        assert!(connections.admit(a, 2).is_none(), "a is full");
        let other = connections.admit(b, 2).expect("b has its own count");
        drop(first);
        assert!(connections.admit(a, 2).is_some(), "a place was freed");
        drop(other);
        assert_eq!(
            connections.addresses(),
            1,
            "b, with none open, is forgotten"
        );
    }
}
