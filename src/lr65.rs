//! The classification of territorial data by regional law L.R. Toscana 65/2014.
//!
//! Two independent axes: the *strutture* of the *patrimonio territoriale* (art. 3, plus a
//! cross-cutting class for reference data) and the *stato* of art. 55 (di fatto / di diritto).
//! A *di diritto* layer also names what kind of legal status it carries and the act behind it.

use serde::{Deserialize, Serialize};

/// Implemented by every taxonomy enum so config errors and HTML can list the valid values.
pub trait Voce: Sized + Copy + 'static {
    const ALL: &'static [Self];
    /// Stable identifier used in config files, URLs and JSON.
    fn id(self) -> &'static str;
    /// Italian label, as the law and the Region name it.
    fn etichetta(self) -> &'static str;
    /// English label.
    fn label_en(self) -> &'static str;

    fn valid_values() -> String {
        Self::ALL
            .iter()
            .map(|v| v.id())
            .collect::<Vec<_>>()
            .join(", ")
    }
    fn from_id(id: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.id() == id)
    }
}

macro_rules! voce {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $var:ident = ($id:literal, $it:literal, $en:literal)),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name { $($(#[$vm])* #[serde(rename = $id)] $var),+ }
        impl Voce for $name {
            const ALL: &'static [Self] = &[$(Self::$var),+];
            fn id(self) -> &'static str { match self { $(Self::$var => $id),+ } }
            fn etichetta(self) -> &'static str { match self { $(Self::$var => $it),+ } }
            fn label_en(self) -> &'static str { match self { $(Self::$var => $en),+ } }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.id()) }
        }
    };
}

voce!(
    /// Art. 3 c. 2 and c. 3: the structures of the patrimonio territoriale, plus base data.
    Struttura {
        /// Art. 3 c. 2 lett. a: geology, morphology, soils, hydrology (invariante I).
        IdroGeomorfologica = ("idro_geomorfologica", "Struttura idro-geomorfologica", "Hydro-geomorphological structure"),
        /// Art. 3 c. 2 lett. b: air, water, soil, ecosystems (invariante II).
        Ecosistemica = ("ecosistemica", "Struttura ecosistemica", "Ecosystem structure"),
        /// Art. 3 c. 2 lett. c: cities, settlements, infrastructure (invariante III).
        Insediativa = ("insediativa", "Struttura insediativa", "Settlement structure"),
        /// Art. 3 c. 2 lett. d: woods, pastures, fields, rural buildings (invariante IV).
        AgroForestale = ("agro_forestale", "Struttura agro-forestale", "Agro-forestry structure"),
        /// Art. 3 c. 3: beni culturali e paesaggistici (D.Lgs. 42/2004).
        PatrimonioCulturale = ("patrimonio_culturale_paesaggistico", "Patrimonio culturale e paesaggistico", "Cultural and landscape heritage"),
        /// Cross-cutting reference data (boundaries, base maps).
        Base = ("base", "Dati territoriali di base e di riferimento", "Base and reference data"),
    }
);

voce!(
    /// Art. 55 c. 1: what is there, or what the law says about it.
    StatoKind {
        DiFatto = ("di_fatto", "Stato di fatto", "De facto state"),
        DiDiritto = ("di_diritto", "Stato di diritto", "De jure state"),
    }
);

voce!(
    /// What kind of legal status a *di diritto* layer carries.
    TipoDiritto {
        Vincolo = ("vincolo", "Vincolo (ope legis o da provvedimento)", "Legal constraint"),
        AreaProtetta = ("area_protetta", "Area protetta / sito Natura 2000", "Protected area"),
        Pericolosita = ("pericolosita", "Pericolosità e rischio con effetti normativi", "Hazard zoning with legal effect"),
        PrevisioneDiPiano = ("previsione_di_piano", "Previsione o disciplina di piano", "Plan provision or zoning"),
    }
);

voce!(
    /// The planning instrument or act a *di diritto* layer comes from.
    Strumento {
        Pit = ("PIT", "Piano di indirizzo territoriale con valenza di piano paesaggistico", "Regional territorial and landscape plan"),
        Ptc = ("PTC", "Piano territoriale di coordinamento", "Provincial coordination plan"),
        Ps = ("PS", "Piano strutturale (anche intercomunale)", "Structural plan"),
        Po = ("PO", "Piano operativo", "Operational plan"),
        Settore = ("SET", "Piano o atto di settore", "Sector plan or act"),
    }
);

voce!(
    /// The procedural phase of the act.
    Fase {
        Adottato = ("adottato", "Adottato", "Adopted"),
        Approvato = ("approvato", "Approvato", "Approved"),
    }
);

voce!(
    /// How often a dataset is updated (the EU frequency vocabulary, as DCAT-AP_IT uses it).
    Frequenza {
        Continuous = ("continuous", "Continuo", "Continuous"),
        Daily = ("daily", "Giornaliero", "Daily"),
        Weekly = ("weekly", "Settimanale", "Weekly"),
        Monthly = ("monthly", "Mensile", "Monthly"),
        Quarterly = ("quarterly", "Trimestrale", "Quarterly"),
        Annual = ("annual", "Annuale", "Annual"),
        Irregular = ("irregular", "Irregolare", "Irregular"),
        Never = ("never", "Mai", "Never"),
        Unknown = ("unknown", "Sconosciuto", "Unknown"),
    }
);

impl Frequenza {
    /// The EU publications-office frequency code (`UPDATE_CONT`, `ANNUAL`, ...).
    pub fn eu_code(self) -> &'static str {
        match self {
            Self::Continuous => "UPDATE_CONT",
            Self::Daily => "DAILY",
            Self::Weekly => "WEEKLY",
            Self::Monthly => "MONTHLY",
            Self::Quarterly => "QUARTERLY",
            Self::Annual => "ANNUAL",
            Self::Irregular => "IRREG",
            Self::Never => "NEVER",
            Self::Unknown => "UNKNOWN",
        }
    }
}

/// The act that gives a *di diritto* layer its force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Atto {
    pub strumento: Strumento,
    /// Free description of the act, e.g. "Delibera C.R. n. 37".
    pub descrizione: String,
    pub numero: String,
    /// ISO date (YYYY-MM-DD).
    pub data: String,
    pub fase: Fase,
}

/// Art. 55: the state of the resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "stato", rename_all = "snake_case")]
pub enum Stato {
    DiFatto,
    DiDiritto { tipo: TipoDiritto, atto: Atto },
}

impl Stato {
    pub fn kind(&self) -> StatoKind {
        match self {
            Stato::DiFatto => StatoKind::DiFatto,
            Stato::DiDiritto { .. } => StatoKind::DiDiritto,
        }
    }
}

/// A layer's place in the L.R. 65/2014 taxonomy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Classificazione {
    Classificato {
        /// One or more structures, first the main one; never empty.
        strutture: Vec<Struttura>,
        stato: Stato,
    },
    /// A quick-look layer published from the command line, not yet classified.
    Anteprima,
}

/// Why a classification as written is not valid under the law: the part at fault (a key of
/// `[layers.classificazione]`) and what to write instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct NonValida {
    /// `struttura`, `stato`, `tipo_diritto`, `atto` or `atto.data`.
    pub parte: &'static str,
    pub message: String,
}

fn non_valida(parte: &'static str, message: impl Into<String>) -> NonValida {
    NonValida {
        parte,
        message: message.into(),
    }
}

impl Classificazione {
    /// The classification of a layer from its parts, by the rules of the law: at least one
    /// struttura (repeats dropped); a *di fatto* layer has no legal kind or act; a *di diritto*
    /// one names both, the act with an ISO date. The only place these rules are written.
    pub fn new(
        strutture: &[Struttura],
        stato: StatoKind,
        tipo_diritto: Option<TipoDiritto>,
        atto: Option<Atto>,
    ) -> Result<Classificazione, NonValida> {
        if strutture.is_empty() {
            return Err(non_valida(
                "struttura",
                format!("list at least one of: {}", Struttura::valid_values()),
            ));
        }
        let mut unique = Vec::with_capacity(strutture.len());
        for s in strutture {
            if !unique.contains(s) {
                unique.push(*s);
            }
        }
        let stato = match stato {
            StatoKind::DiFatto => {
                if tipo_diritto.is_some() || atto.is_some() {
                    return Err(non_valida(
                        "stato",
                        "a `di_fatto` layer has no `tipo_diritto` or `atto`; remove them, or set stato = \"di_diritto\"",
                    ));
                }
                Stato::DiFatto
            }
            StatoKind::DiDiritto => {
                let Some(tipo) = tipo_diritto else {
                    return Err(non_valida(
                        "tipo_diritto",
                        format!(
                            "a `di_diritto` layer names its kind: one of {}",
                            TipoDiritto::valid_values()
                        ),
                    ));
                };
                let Some(atto) = atto else {
                    return Err(non_valida(
                        "atto",
                        format!(
                            "a `di_diritto` layer names the act that gives it force: \
                             atto = {{ strumento = ({}), descrizione = \"…\", numero = \"…\", data = \"YYYY-MM-DD\", fase = ({}) }}",
                            Strumento::valid_values(),
                            Fase::valid_values()
                        ),
                    ));
                };
                if time::Date::parse(
                    &atto.data,
                    &time::format_description::well_known::Iso8601::DATE,
                )
                .is_err()
                {
                    return Err(non_valida(
                        "atto.data",
                        format!("`{}` is not a date; write it as YYYY-MM-DD", atto.data),
                    ));
                }
                Stato::DiDiritto { tipo, atto }
            }
        };
        Ok(Classificazione::Classificato {
            strutture: unique,
            stato,
        })
    }

    pub fn strutture(&self) -> &[Struttura] {
        match self {
            Classificazione::Classificato { strutture, .. } => strutture,
            Classificazione::Anteprima => &[],
        }
    }
    pub fn stato(&self) -> Option<&Stato> {
        match self {
            Classificazione::Classificato { stato, .. } => Some(stato),
            Classificazione::Anteprima => None,
        }
    }
    pub fn is_preview(&self) -> bool {
        matches!(self, Classificazione::Anteprima)
    }

    /// The JSON form used in `/collections` and the landing page.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Classificazione::Anteprima => serde_json::json!({ "anteprima": true }),
            Classificazione::Classificato { strutture, stato } => {
                let mut v = serde_json::json!({
                    "struttura": strutture.iter().map(|s| s.id()).collect::<Vec<_>>(),
                    "stato": stato.kind().id(),
                });
                if let Stato::DiDiritto { tipo, atto } = stato {
                    v["tipo_diritto"] = tipo.id().into();
                    v["atto"] = serde_json::json!({
                        "strumento": atto.strumento.id(),
                        "descrizione": atto.descrizione,
                        "numero": atto.numero,
                        "data": atto.data,
                        "fase": atto.fase.id(),
                    });
                }
                v
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_are_unique() {
        for s in Struttura::ALL {
            assert_eq!(Struttura::from_id(s.id()), Some(*s));
        }
        let mut ids: Vec<_> = Struttura::ALL.iter().map(|s| s.id()).collect();
        ids.dedup();
        assert_eq!(ids.len(), 6);
        assert!(Struttura::valid_values().contains("agro_forestale"));
    }

    #[test]
    fn serde_uses_the_config_ids() {
        let s: Struttura = serde_json::from_str("\"idro_geomorfologica\"").unwrap();
        assert_eq!(s, Struttura::IdroGeomorfologica);
        let err = serde_json::from_str::<TipoDiritto>("\"vincoli\"").unwrap_err();
        assert!(err.to_string().contains("previsione_di_piano"), "{err}");
    }
}
