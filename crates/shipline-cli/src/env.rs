//! Reading the environment, with the rule composite actions need: empty means unset.

use std::collections::HashMap;
use std::sync::Arc;

/// The process environment, or a map in tests.
///
/// A composite action maps every input into `env:`, so an input the user did not set arrives
/// as an empty `INPUT_*` variable; [`Env::var`] treats it as absent, and trims the line break
/// a secret pasted into the settings page often carries.
#[derive(Clone)]
pub struct Env {
    lookup: Lookup,
}

type Lookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

impl Env {
    pub fn process() -> Self {
        Self {
            lookup: Arc::new(|name| std::env::var(name).ok()),
        }
    }

    pub fn from_map(map: HashMap<String, String>) -> Self {
        Self {
            lookup: Arc::new(move |name| map.get(name).cloned()),
        }
    }

    /// The value, trimmed, or `None` when unset or empty.
    pub fn var(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// Whether the variable exists but is empty (or white space).
    pub fn is_empty(&self, name: &str) -> bool {
        matches!((self.lookup)(name), Some(v) if v.trim().is_empty())
    }
}

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Env")
    }
}
