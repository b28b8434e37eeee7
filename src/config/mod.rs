//! The TOML configuration: parsed strictly (unknown keys are errors), `${ENV}` expanded first,
//! then validated into the typed layer catalogue. Every error names the file, the key and the fix.

mod env;

use crate::catalogue::lr65::{
    Atto, Classificazione, Fase, Frequenza, Stato, StatoKind, Strumento, Struttura, TipoDiritto,
    Voce,
};
use serde::Deserialize;
use std::path::{Path, PathBuf};

pub use env::expand_env;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read the configuration: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: `{key}`: {message}")]
    Invalid {
        path: PathBuf,
        key: String,
        message: String,
    },
}

/// The file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub layers: Vec<LayerConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to listen on; `--bind` overrides it.
    pub bind: String,
    /// The base URL clients see (behind a proxy). When absent, links are built from the
    /// request's `Host` header.
    pub public_url: Option<String>,
    /// Also use `X-Forwarded-Proto`/`X-Forwarded-Host`: only behind a proxy that sets them.
    pub trust_proxy_headers: bool,
    pub title: String,
    pub description: String,
    /// Items per page when the request has no `limit`.
    pub default_limit: u32,
    /// Largest page served; a larger `limit` is clamped to it (OGC API - Features 1, /req/core/fc-limit-response-1).
    pub max_limit: u32,
    /// `Cache-Control: max-age` for metadata and features, in seconds.
    pub cache_max_age: u32,
    /// Requests with a longer URL get 414.
    pub max_url_length: usize,
    /// A query that reads for longer gets 503 (the client is answered; the read is dropped).
    pub request_timeout_secs: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: "127.0.0.1:8080".into(),
            public_url: None,
            trust_proxy_headers: false,
            title: "tessera".into(),
            description: "Dati territoriali della Toscana, ordinati secondo la L.R. 65/2014".into(),
            default_limit: 10,
            max_limit: 10_000,
            cache_max_age: 60,
            max_url_length: 8192,
            request_timeout_secs: 30,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerConfig {
    pub id: String,
    pub title: String,
    pub description: String,
    #[serde(default)]
    pub keywords: Vec<String>,
    pub license: LicenseConfig,
    pub attribution: String,
    pub publisher: PublisherConfig,
    pub frequency: Frequenza,
    pub source: SourceConfig,
    /// Property whose value is the feature id; without it the id is the feature's position.
    pub id_property: Option<String>,
    /// Properties holding the feature's time (instant, or start and end).
    pub temporal: Option<TemporalConfig>,
    /// EPSG code of the stored coordinates, when the file does not say.
    pub storage_crs: Option<u32>,
    /// True for demonstration data made by a generator: shown in metadata and HTML.
    #[serde(default)]
    pub synthetic: bool,
    pub classificazione: Option<ClassificazioneConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenseConfig {
    /// SPDX-style identifier, e.g. `CC-BY-4.0`.
    pub id: String,
    pub url: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublisherConfig {
    pub name: String,
    /// Code of the body in the IPA index (e.g. `r_toscan`).
    pub ipa: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum SourceConfig {
    /// Path to a FlatGeobuf file, relative to the configuration file.
    Flatgeobuf(PathBuf),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemporalConfig {
    pub start: String,
    pub end: Option<String>,
}

/// The classification as written; turned into [`Classificazione`] by [`LayerConfig::classificazione`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassificazioneConfig {
    pub struttura: Vec<Struttura>,
    pub stato: StatoKind,
    pub tipo_diritto: Option<TipoDiritto>,
    pub atto: Option<AttoConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttoConfig {
    pub strumento: Strumento,
    pub descrizione: String,
    pub numero: String,
    pub data: String,
    pub fase: Fase,
}

/// A loaded, validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where it came from (for messages); `None` when built from command-line sources only.
    pub path: Option<PathBuf>,
    pub server: ServerConfig,
    pub layers: Vec<LayerConfig>,
    /// Folder that relative source paths are resolved against.
    pub base_dir: PathBuf,
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let expanded =
            expand_env(text, |k| std::env::var(k).ok()).map_err(|message| ConfigError::Parse {
                path: path.to_path_buf(),
                message,
            })?;
        let file: ConfigFile = toml::from_str(&expanded).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: parse_message(&e),
        })?;
        let base_dir = path
            .parent()
            .map(Path::to_path_buf)
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("."));
        let config = Config {
            path: Some(path.to_path_buf()),
            server: file.server,
            layers: file.layers,
            base_dir,
        };
        config.validate()?;
        Ok(config)
    }

    /// A configuration with no file: defaults, and layers added by the caller.
    pub fn empty() -> Config {
        Config {
            path: None,
            server: ServerConfig::default(),
            layers: Vec::new(),
            base_dir: PathBuf::from("."),
        }
    }

    fn invalid(&self, key: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            path: self.path.clone().unwrap_or_else(|| "<command line>".into()),
            key: key.into(),
            message: message.into(),
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let s = &self.server;
        if s.default_limit == 0 || s.max_limit == 0 || s.default_limit > s.max_limit {
            return Err(self.invalid(
                "server.default_limit",
                format!(
                    "default_limit ({}) and max_limit ({}) must be at least 1, with default_limit <= max_limit",
                    s.default_limit, s.max_limit
                ),
            ));
        }
        if s.request_timeout_secs == 0 {
            return Err(self.invalid(
                "server.request_timeout_secs",
                "must be at least 1 (seconds)",
            ));
        }
        if let Some(url) = &s.public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(self.invalid(
                "server.public_url",
                format!("`{url}` is not an absolute http(s) URL; write e.g. https://gis.example.it/tessera"),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, layer) in self.layers.iter().enumerate() {
            let key = format!("layers[{i}]");
            validate_id(&layer.id).map_err(|m| self.invalid(format!("{key}.id"), m))?;
            if !seen.insert(layer.id.as_str()) {
                return Err(self.invalid(
                    format!("{key}.id"),
                    format!(
                        "the id `{}` is used by another layer; ids must be unique",
                        layer.id
                    ),
                ));
            }
            for (field, value) in [
                ("title", &layer.title),
                ("description", &layer.description),
                ("attribution", &layer.attribution),
                ("publisher.name", &layer.publisher.name),
                ("publisher.ipa", &layer.publisher.ipa),
                ("license.id", &layer.license.id),
                ("license.url", &layer.license.url),
            ] {
                if value.trim().is_empty() {
                    return Err(self.invalid(format!("{key}.{field}"), "must not be empty"));
                }
            }
            self.classificazione(i)?;
        }
        Ok(())
    }

    /// The typed classification of layer `i`; every missing or contradictory part is refused
    /// with a message that lists the valid values.
    pub fn classificazione(&self, i: usize) -> Result<Classificazione, ConfigError> {
        let layer = &self.layers[i];
        let key = format!("layers[{i}].classificazione");
        let Some(c) = &layer.classificazione else {
            return Err(self.invalid(
                &key,
                format!(
                    "layer `{}` has no classification; add a [layers.classificazione] table with \
                     `struttura` (one or more of: {}) and `stato` (one of: {})",
                    layer.id,
                    Struttura::valid_values(),
                    StatoKind::valid_values()
                ),
            ));
        };
        if c.struttura.is_empty() {
            return Err(self.invalid(
                format!("{key}.struttura"),
                format!("list at least one of: {}", Struttura::valid_values()),
            ));
        }
        let mut strutture = c.struttura.clone();
        let mut seen = std::collections::HashSet::new();
        strutture.retain(|s| seen.insert(*s));
        let stato = match c.stato {
            StatoKind::DiFatto => {
                if c.tipo_diritto.is_some() || c.atto.is_some() {
                    return Err(self.invalid(
                        format!("{key}.stato"),
                        "a `di_fatto` layer has no `tipo_diritto` or `atto`; remove them, or set stato = \"di_diritto\"",
                    ));
                }
                Stato::DiFatto
            }
            StatoKind::DiDiritto => {
                let Some(tipo) = c.tipo_diritto else {
                    return Err(self.invalid(
                        format!("{key}.tipo_diritto"),
                        format!(
                            "a `di_diritto` layer names its kind: one of {}",
                            TipoDiritto::valid_values()
                        ),
                    ));
                };
                let Some(a) = &c.atto else {
                    return Err(self.invalid(
                        format!("{key}.atto"),
                        format!(
                            "a `di_diritto` layer names the act that gives it force: \
                             atto = {{ strumento = ({}), descrizione = \"…\", numero = \"…\", data = \"YYYY-MM-DD\", fase = ({}) }}",
                            Strumento::valid_values(),
                            Fase::valid_values()
                        ),
                    ));
                };
                if time::Date::parse(
                    &a.data,
                    &time::format_description::well_known::Iso8601::DATE,
                )
                .is_err()
                {
                    return Err(self.invalid(
                        format!("{key}.atto.data"),
                        format!("`{}` is not a date; write it as YYYY-MM-DD", a.data),
                    ));
                }
                Stato::DiDiritto {
                    tipo,
                    atto: Atto {
                        strumento: a.strumento,
                        descrizione: a.descrizione.clone(),
                        numero: a.numero.clone(),
                        data: a.data.clone(),
                        fase: a.fase,
                    },
                }
            }
        };
        Ok(Classificazione::Classificato { strutture, stato })
    }

    /// A layer's source path, resolved against the configuration's folder.
    pub fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base_dir.join(p)
        }
    }
}

/// Collection ids appear in URLs: keep them to `[a-z0-9_-]` (a dot breaks some QGIS versions).
pub fn validate_id(id: &str) -> Result<(), String> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{id}` is not a valid id: use 1 to 64 characters among a-z, 0-9, `_` and `-`"
        ))
    }
}

/// Makes toml's message point at the line and keep the list of expected values.
fn parse_message(e: &toml::de::Error) -> String {
    let msg = e.to_string();
    let mut out = msg.trim_end().to_string();
    if msg.contains("unknown field") {
        out.push_str("\nfix: remove or rename the key; the valid keys are listed above");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(extra: &str) -> String {
        format!(
            r#"
[[layers]]
id = "comuni"
title = "Comuni"
description = "d"
license = {{ id = "CC-BY-4.0", url = "https://creativecommons.org/licenses/by/4.0/" }}
attribution = "ISTAT"
publisher = {{ name = "Regione Toscana", ipa = "r_toscan" }}
frequency = "annual"
source = {{ flatgeobuf = "comuni.fgb" }}
{extra}
"#
        )
    }

    fn err(text: &str) -> String {
        Config::parse(text, Path::new("/etc/tessera.toml"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn valid_layer_parses() {
        let c = Config::parse(
            &layer("classificazione = { struttura = [\"base\"], stato = \"di_fatto\" }"),
            Path::new("/x/t.toml"),
        )
        .unwrap();
        assert_eq!(c.layers.len(), 1);
        assert_eq!(c.resolve(Path::new("a.fgb")), PathBuf::from("/x/a.fgb"));
        assert!(matches!(
            c.classificazione(0).unwrap(),
            Classificazione::Classificato {
                stato: Stato::DiFatto,
                ..
            }
        ));
    }

    #[test]
    fn missing_classification_lists_values() {
        let e = err(&layer(""));
        assert!(e.contains("/etc/tessera.toml"), "{e}");
        assert!(e.contains("layers[0].classificazione"), "{e}");
        assert!(
            e.contains("idro_geomorfologica") && e.contains("di_diritto"),
            "{e}"
        );
    }

    #[test]
    fn invalid_struttura_lists_values() {
        let e = err(&layer(
            "classificazione = { struttura = [\"idraulica\"], stato = \"di_fatto\" }",
        ));
        assert!(
            e.contains("idraulica") && e.contains("agro_forestale"),
            "{e}"
        );
        assert!(e.contains("line"), "{e}");
    }

    #[test]
    fn diritto_needs_kind_and_act() {
        let e = err(&layer(
            "classificazione = { struttura = [\"base\"], stato = \"di_diritto\" }",
        ));
        assert!(
            e.contains("tipo_diritto") && e.contains("pericolosita"),
            "{e}"
        );
        let e = err(&layer(
            "classificazione = { struttura = [\"base\"], stato = \"di_diritto\", tipo_diritto = \"vincolo\" }",
        ));
        assert!(e.contains("atto") && e.contains("strumento"), "{e}");
    }

    #[test]
    fn unknown_keys_are_errors() {
        let e = err(&format!(
            "{}\ncolour = 3",
            layer("classificazione = { struttura = [\"base\"], stato = \"di_fatto\" }")
        ));
        assert!(e.contains("colour"), "{e}");
        let e = err("[server]\nbindd = \"x\"\n");
        assert!(e.contains("bindd") && e.contains("bind"), "{e}");
    }

    #[test]
    fn bad_ids_are_refused() {
        let text = layer("classificazione = { struttura = [\"base\"], stato = \"di_fatto\" }")
            .replace("\"comuni\"", "\"Comuni.v2\"");
        let e = err(&text);
        assert!(e.contains("layers[0].id") && e.contains("a-z"), "{e}");
    }
}
