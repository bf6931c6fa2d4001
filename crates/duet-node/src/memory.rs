//! Handing freed memory back to the system once the node is idle.
//!
//! Opening the store, a synced backlog and merging the search index allocate and free tens of
//! megabytes on several threads. glibc's allocator keeps what was freed in its arenas for the
//! next allocation and returns to the system only what lies at the very top of a heap, so a
//! node that did that work once kept ~15 MB more resident for as long as it ran (measured with
//! `scripts/bench-app.sh`: the app's anonymous memory 84 → 69 MB with a 10,000-message
//! conversation open). `malloc_trim(0)` gives back every whole free page of every arena; the
//! idle upkeep ([`crate::search`]) calls it once after each stretch of work, never in a hot
//! path (it takes about a millisecond and holds each arena's lock while it walks it).

/// Returns the allocator's free pages to the system (glibc); nothing elsewhere.
pub(crate) fn release_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[allow(unsafe_code)]
    // SAFETY: malloc_trim only reads and rearranges the allocator's own free lists under each
    // arena's lock, and tells the kernel which whole free pages it may take back; it touches
    // no memory that is allocated, so nothing in the process can observe it but its footprint.
    unsafe {
        libc::malloc_trim(0);
    }
}
