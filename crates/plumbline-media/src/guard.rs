//! Third-party decoders that panic on corrupt input where they should return an error
//! (symphonia's demuxers here, the `parquet` crate in the formats crate's Parquet
//! reader): [`catch_panic`] turns such a panic into a refusal, and the process-wide
//! panic hook stays quiet for panics caught here.

thread_local! {
    /// Set while this thread runs inside [`catch_panic`].
    static INSIDE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` and gives back its panic's message (`None` when it carried none) instead of
/// unwinding further. The panic hook in place before the first call keeps printing
/// every other panic.
pub fn catch_panic<T>(f: impl FnOnce() -> T) -> Result<T, Option<String>> {
    static QUIET: std::sync::Once = std::sync::Once::new();
    QUIET.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !INSIDE.with(|c| c.get()) {
                previous(info);
            }
        }));
    });
    let was = INSIDE.with(|c| c.replace(true));
    let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    INSIDE.with(|c| c.set(was));
    out.map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
    })
}
