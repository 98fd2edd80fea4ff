//! The instance's home and its `weft.yaml`, read: `$WEFT_HOME` (default `~/.weft`), and
//! the configuration in it (its model is `weft_server::config`; a missing file is the
//! default configuration).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use weft_server::Instance;
use weft_server::config::InstanceConfig;

/// Opens `$WEFT_HOME` (or `~/.weft`) and reads its `weft.yaml` if there is one.
pub fn open(home: Option<PathBuf>) -> Result<Instance> {
    let home = match home {
        Some(h) => h,
        None => match std::env::var_os("HOME") {
            Some(h) => PathBuf::from(h).join(".weft"),
            None => bail!("set WEFT_HOME (or HOME) to say where Weft keeps its data"),
        },
    };
    let path = home.join("weft.yaml");
    let config = match std::fs::read_to_string(&path) {
        Ok(text) => serde_yaml_ng::from_str(&text)
            .with_context(|| format!("{} is not valid", path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => InstanceConfig::default(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    Ok(Instance::new(home, config))
}
