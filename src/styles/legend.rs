//! The legend of the HTML maps: one entry per layer, its swatch an inline SVG drawn from the
//! layer's [`Symbol`] as its style draws it (fill, hatch and outline pattern, line, circle).

use super::palette::{Hatch, Role, Symbol};
use crate::lr65::{StatoKind, Voce};
use serde::Serialize;

/// One line of a legend.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub id: String,
    pub title: String,
    /// `di_fatto`, `di_diritto`, or empty for a preview.
    pub stato: &'static str,
    /// What the swatch says in words: the stato, and the kind of diritto.
    pub meaning: String,
    /// The swatch, an SVG element (made here from the palette's colours: safe to inline).
    pub svg: String,
}

/// The swatch's size, in CSS pixels.
const W: f64 = 28.0;
const H: f64 = 18.0;

/// The entry of a layer drawn with `symbol`, whose geometry is `geometry_type`.
pub fn entry(id: &str, title: &str, symbol: &Symbol, geometry_type: &str) -> Entry {
    let (stato, meaning) = match symbol.role {
        // The group a fatto entry sits in already says it.
        Role::Fatto => (StatoKind::DiFatto.id(), String::new()),
        Role::Reference => (
            StatoKind::DiFatto.id(),
            "Riferimento (dati di base)".to_string(),
        ),
        Role::Diritto(t) => (
            StatoKind::DiDiritto.id(),
            format!("{}: {}", StatoKind::DiDiritto.etichetta(), t.etichetta()),
        ),
        Role::Preview => ("", "Anteprima non classificata".to_string()),
    };
    Entry {
        id: id.to_string(),
        title: title.to_string(),
        stato,
        meaning,
        svg: swatch(symbol, geometry_type),
    }
}

/// An SVG swatch of `symbol` for a layer of `geometry_type`.
pub fn swatch(symbol: &Symbol, geometry_type: &str) -> String {
    let c = &symbol.colour;
    let dash = |width: f64| {
        symbol.dash().map_or(String::new(), |d| {
            let d: Vec<String> = (d.iter())
                .map(|v| format!("{}", (v * width * 10.0).round() / 10.0))
                .collect();
            format!(" stroke-dasharray=\"{}\"", d.join(" "))
        })
    };
    let body = match geometry_type {
        "Point" | "MultiPoint" => {
            let fill = if symbol.is_diritto() { "#ffffff" } else { c };
            format!(
                "<circle cx=\"{}\" cy=\"{}\" r=\"5\" fill=\"{fill}\" stroke=\"{c}\" stroke-width=\"{}\"/>",
                W / 2.0,
                H / 2.0,
                if symbol.is_diritto() { 2 } else { 1 }
            )
        }
        "LineString" | "MultiLineString" => format!(
            "<path d=\"M2 {y} L{x} {y}\" stroke=\"{c}\" stroke-width=\"2.5\"{}/>",
            dash(2.5),
            y = H / 2.0,
            x = W - 2.0
        ),
        _ => area(symbol, &dash(1.6)),
    };
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" aria-hidden=\"true\">{body}</svg>"
    )
}

/// An area's swatch: filled (di fatto), outlined (reference), or tinted, hatched and outlined
/// in its kind's pattern (di diritto).
fn area(symbol: &Symbol, dash: &str) -> String {
    let c = &symbol.colour;
    let rect = |fill: &str, opacity: f64, stroke: f64, extra: &str| {
        format!(
            "<rect x=\"1\" y=\"1\" width=\"{}\" height=\"{}\" fill=\"{fill}\" fill-opacity=\"{opacity}\" stroke=\"{c}\" stroke-width=\"{stroke}\"{extra}/>",
            W - 2.0,
            H - 2.0
        )
    };
    match symbol.role {
        Role::Fatto | Role::Preview => rect(c, 0.35, 1.2, ""),
        Role::Reference => rect("none", 0.0, 1.0, ""),
        Role::Diritto(t) => {
            let id = format!("tratteggio-{}", symbol.pattern().unwrap_or_default());
            // Lines 8 px apart, as in the sprite.
            let path = match Hatch::of(t) {
                Hatch::Rising => "M0 8 L8 0 M-2 2 L2 -2 M6 10 L10 6",
                Hatch::Falling => "M0 0 L8 8 M-2 6 L2 10 M6 -2 L10 2",
                Hatch::Level => "M0 0.5 L8 0.5",
                Hatch::Crossed => {
                    "M0 8 L8 0 M-2 2 L2 -2 M6 10 L10 6 M0 0 L8 8 M-2 6 L2 10 M6 -2 L10 2"
                }
            };
            format!(
                "<defs><pattern id=\"{id}\" width=\"8\" height=\"8\" patternUnits=\"userSpaceOnUse\"><path d=\"{path}\" stroke=\"{c}\" stroke-width=\"1.4\" stroke-opacity=\"0.85\"/></pattern></defs>{}{}",
                rect(c, 0.08, 0.0, ""),
                rect(&format!("url(#{id})"), 1.0, 1.6, dash)
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lr65::TipoDiritto;

    #[test]
    fn swatches_follow_the_symbol() {
        let fatto = Symbol {
            colour: "#1f6fb4".into(),
            role: Role::Fatto,
        };
        let s = swatch(&fatto, "MultiPolygon");
        assert!(
            s.contains("fill=\"#1f6fb4\"") && !s.contains("pattern"),
            "{s}"
        );
        let diritto = Symbol {
            colour: "#00838f".into(),
            role: Role::Diritto(TipoDiritto::Pericolosita),
        };
        let s = swatch(&diritto, "Polygon");
        assert!(s.contains("url(#tratteggio-pericolosita-00838f)"), "{s}");
        assert!(s.contains("stroke-dasharray=\"1.6 2.4\""), "{s}");
        let e = entry("p", "P", &diritto, "Polygon");
        assert_eq!(e.stato, "di_diritto");
        assert!(e.meaning.contains("Pericolosità"), "{}", e.meaning);
        assert!(swatch(&diritto, "Point").contains("fill=\"#ffffff\""));
    }
}
