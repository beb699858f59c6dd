// Placeholder crate root: cargo needs one to resolve the manifest.
