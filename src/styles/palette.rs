//! How each layer is drawn, from its L.R. 65/2014 classification and the colour families of
//! `styles/strutture.json`: one [`Symbol`] per layer, shared by the MapLibre styles, the sprite,
//! the legends and the HTML maps, so that a layer looks the same everywhere.
//!
//! - Every struttura has a family of colours, one list for *di fatto* layers and one for *di
//!   diritto* layers; layers of one struttura and stato take the list's colours in catalogue
//!   order.
//! - *Di fatto*: filled areas, solid lines, filled circles: what is there.
//! - *Di diritto*: an overlay: a light tint, a hatch from the sprite, and an outline whose
//!   pattern says the kind of diritto (see [`Hatch`] and [`Symbol::dash`]); hollow circles.
//! - The base layers (comuni, province) are outlines: a reference, not a subject.

use crate::catalogue::Layer;
use crate::lr65::{Stato, StatoKind, Struttura, TipoDiritto, Voce};
use serde::Deserialize;
use std::collections::BTreeMap;

/// `styles/strutture.json`, built in.
const PALETTE: &str = include_str!("../../styles/strutture.json");

/// A struttura's colours, `#rrggbb`.
#[derive(Debug, Clone, Deserialize)]
pub struct Family {
    pub di_fatto: Vec<String>,
    pub di_diritto: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct PaletteFile {
    strutture: BTreeMap<String, Family>,
    anteprima: String,
}

#[derive(Debug)]
pub struct Palette {
    families: BTreeMap<String, Family>,
    preview: String,
}

impl Default for Palette {
    fn default() -> Self {
        let file: PaletteFile = serde_json::from_str(PALETTE)
            .expect("styles/strutture.json is a valid palette (checked by the tests)");
        Palette {
            families: file.strutture,
            preview: file.anteprima,
        }
    }
}

/// The hatch of a *di diritto* area, by kind of diritto: lines one way for constraints, the
/// other way for protected areas, level for hazards, crossed for plan provisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hatch {
    Rising,
    Falling,
    Level,
    Crossed,
}

impl Hatch {
    pub fn of(t: TipoDiritto) -> Hatch {
        match t {
            TipoDiritto::Vincolo => Hatch::Rising,
            TipoDiritto::AreaProtetta => Hatch::Falling,
            TipoDiritto::Pericolosita => Hatch::Level,
            TipoDiritto::PrevisioneDiPiano => Hatch::Crossed,
        }
    }
}

/// What a layer is on a map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Fatto,
    Diritto(TipoDiritto),
    /// Base data (struttura `base`, di fatto): outlines under the rest.
    Reference,
    /// A quick look, not yet classified.
    Preview,
}

/// How one layer is drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    pub colour: String,
    pub role: Role,
}

impl Symbol {
    pub fn is_diritto(&self) -> bool {
        matches!(self.role, Role::Diritto(_))
    }

    /// The sprite image that hatches the layer's areas (`{tipo}-{rrggbb}`), for *di diritto*.
    pub fn pattern(&self) -> Option<String> {
        match self.role {
            Role::Diritto(t) => Some(pattern_name(t, &self.colour)),
            _ => None,
        }
    }

    /// The outline's dashes, in line widths (MapLibre's `line-dasharray`); `None` is solid.
    /// Vincolo is solid, area protetta dashed, pericolosità dotted, previsione dash-dot.
    pub fn dash(&self) -> Option<&'static [f64]> {
        match self.role {
            Role::Diritto(TipoDiritto::Vincolo) | Role::Fatto | Role::Reference | Role::Preview => {
                None
            }
            Role::Diritto(TipoDiritto::AreaProtetta) => Some(&[4.0, 2.0]),
            Role::Diritto(TipoDiritto::Pericolosita) => Some(&[1.0, 1.5]),
            Role::Diritto(TipoDiritto::PrevisioneDiPiano) => Some(&[5.0, 2.0, 1.0, 2.0]),
        }
    }
}

/// The sprite's name for the hatch of kind `t` in `colour`.
pub fn pattern_name(t: TipoDiritto, colour: &str) -> String {
    format!("{}-{}", t.id(), colour.trim_start_matches('#'))
}

impl Palette {
    pub fn family(&self, s: Struttura) -> Option<&Family> {
        self.families.get(s.id())
    }

    pub fn preview_colour(&self) -> &str {
        &self.preview
    }

    /// Every *di diritto* colour: the sprite holds a hatch of each kind in each.
    pub fn diritto_colours(&self) -> Vec<&str> {
        let mut c: Vec<&str> = (self.families.values())
            .flat_map(|f| f.di_diritto.iter().map(String::as_str))
            .collect();
        c.sort_unstable();
        c.dedup();
        c
    }

    /// How `layer` is drawn among `catalogue`'s layers: in the family of struttura `view`
    /// (a struttura's own map) or of its first struttura, with the next colour of the list for
    /// its stato.
    pub fn symbol(&self, catalogue: &[Layer], layer: &Layer, view: Option<Struttura>) -> Symbol {
        let c = &layer.meta.classificazione;
        let (Some(stato), Some(first)) = (c.stato(), c.strutture().first()) else {
            return Symbol {
                colour: self.preview.clone(),
                role: Role::Preview,
            };
        };
        let family = view.filter(|v| c.strutture().contains(v)).unwrap_or(*first);
        let kind = stato.kind();
        // The layers drawn from the same list before this one.
        let before = (catalogue.iter())
            .take_while(|l| l.meta.id != layer.meta.id)
            .filter(|l| {
                let lc = &l.meta.classificazione;
                let same_family = match view {
                    Some(v) if lc.strutture().contains(&v) => v == family,
                    _ => lc.strutture().first() == Some(&family),
                };
                same_family && lc.stato().map(Stato::kind) == Some(kind)
            })
            .count();
        let list = self.family(family).map(|f| match kind {
            StatoKind::DiFatto => &f.di_fatto,
            StatoKind::DiDiritto => &f.di_diritto,
        });
        let colour = list
            .filter(|l| !l.is_empty())
            .map_or_else(|| self.preview.clone(), |l| l[before % l.len()].clone());
        let role = match stato {
            Stato::DiDiritto { tipo, .. } => Role::Diritto(*tipo),
            Stato::DiFatto if c.strutture().iter().all(|s| *s == Struttura::Base) => {
                Role::Reference
            }
            Stato::DiFatto => Role::Fatto,
        };
        Symbol { colour, role }
    }
}
