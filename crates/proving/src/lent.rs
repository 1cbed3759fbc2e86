//! Bytes a caller lends to a call.

/// Bytes a caller lends for as long as the call that took them runs: key material is large,
/// so the binding hands in the caller's buffers (kept alive until the call settles) instead of
/// copies. Owned bytes work too.
pub struct Lent(Box<dyn AsRef<[u8]> + Send + Sync>);

impl Lent {
    pub fn new(bytes: impl AsRef<[u8]> + Send + Sync + 'static) -> Self {
        Lent(Box::new(bytes))
    }
}

impl std::ops::Deref for Lent {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        (*self.0).as_ref()
    }
}

impl From<Vec<u8>> for Lent {
    fn from(bytes: Vec<u8>) -> Self {
        Lent::new(bytes)
    }
}
