//! Memory for bytes kept long, apart from the memory renders churn through.
//!
//! A finished tile lives for minutes (in the cache, in responses being sent); the features and
//! buffers of a render live for milliseconds. Taken from the same allocator, each kept tile
//! lands on a page among render garbage and keeps that page resident after the garbage is
//! freed, so after a burst of cold tiles the process stays at the burst's peak (measured: about
//! twice the cache). Finished tiles are therefore copied, on the thread that made them, into
//! memory of the system allocator, which nothing else in the process uses (the global
//! allocator is mimalloc): render pages empty out on their own thread and go back to the
//! system, and the pages that stay hold finished tiles only.

use bytes::Bytes;
use std::alloc::{GlobalAlloc, Layout, System};
use std::ptr::NonNull;

/// A copy of `data` in memory of the system allocator.
pub fn kept(data: &[u8]) -> Bytes {
    let Some(buf) = SystemBuf::copy_of(data) else {
        return Bytes::copy_from_slice(data);
    };
    Bytes::from_owner(buf)
}

/// Bytes allocated by [`System`], freed there when the last [`Bytes`] over them is dropped.
struct SystemBuf {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the buffer is owned, never written after `copy_of`, and System may free it from any
// thread.
unsafe impl Send for SystemBuf {}
unsafe impl Sync for SystemBuf {}

impl SystemBuf {
    /// None for an empty slice (nothing to allocate) or a size no layout can hold.
    fn copy_of(data: &[u8]) -> Option<SystemBuf> {
        if data.is_empty() {
            return None;
        }
        let layout = Layout::array::<u8>(data.len()).ok()?;
        // SAFETY: the layout has a non-zero size.
        let raw = unsafe { System.alloc(layout) };
        let Some(ptr) = NonNull::new(raw) else {
            std::alloc::handle_alloc_error(layout);
        };
        // SAFETY: `ptr` is a fresh allocation of `data.len()` bytes, distinct from `data`.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), ptr.as_ptr(), data.len()) };
        Some(SystemBuf {
            ptr,
            len: data.len(),
        })
    }
}

impl AsRef<[u8]> for SystemBuf {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: `ptr` holds `len` initialised bytes until drop.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for SystemBuf {
    fn drop(&mut self) {
        // SAFETY: allocated by System with exactly this layout (it was valid then).
        unsafe {
            System.dealloc(
                self.ptr.as_ptr(),
                Layout::from_size_align_unchecked(self.len, 1),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_copy_holds_the_same_bytes_and_outlives_its_source() {
        let source: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let copy = kept(&source);
        let expected = source.clone();
        drop(source);
        assert_eq!(&copy[..], &expected[..]);
        let slice = copy.slice(10..20);
        drop(copy);
        assert_eq!(&slice[..], &expected[10..20]);
        assert!(kept(&[]).is_empty());
    }
}
