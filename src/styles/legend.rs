//! The legend of the HTML maps: one entry per layer, its swatch an inline SVG drawn from the
//! layer's [`Symbol`] as its style draws it (fill, hatch and outline pattern, line, circle).

use super::palette::{Hatch, Role, Symbol};
use super::sprite::{ALPHA, LINE, PERIOD};
use super::{DENSITY, FILL_OPACITY, TINT_OPACITY};
use crate::lr65::{StatoKind, Voce};
use crate::source::Kinds;
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
    let kinds = Kinds::of(geometry_type);
    let body = if kinds.areas {
        area(symbol, &dash(1.6))
    } else if kinds.lines {
        format!(
            "<path d=\"M2 {y} L{x} {y}\" stroke=\"{c}\" stroke-width=\"2.5\"{}/>",
            dash(2.5),
            y = H / 2.0,
            x = W - 2.0
        )
    } else {
        let fill = if symbol.is_diritto() { "#ffffff" } else { c };
        format!(
            "<circle cx=\"{}\" cy=\"{}\" r=\"5\" fill=\"{fill}\" stroke=\"{c}\" stroke-width=\"{}\"/>",
            W / 2.0,
            H / 2.0,
            if symbol.is_diritto() { 2 } else { 1 }
        )
    };
    svg(&body)
}

fn svg(body: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" aria-hidden=\"true\">{body}</svg>"
    )
}

/// The swatch of the stand-ins: three cells at the opacities of the density classes.
pub fn stand_ins_swatch() -> String {
    let cells: String = (DENSITY.iter().enumerate())
        .map(|(k, (_, _, opacity))| {
            format!(
                "<rect x=\"{}\" y=\"5\" width=\"8\" height=\"8\" fill=\"#5b6775\" fill-opacity=\"{opacity}\"/>",
                1 + 9 * k
            )
        })
        .collect();
    svg(&cells)
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
        Role::Fatto | Role::Preview => rect(c, FILL_OPACITY, 1.2, ""),
        Role::Reference => rect("none", 0.0, 1.0, ""),
        Role::Diritto(t) => {
            // The sprite's hatch, drawn as lines clipped to the swatch (no pattern element:
            // its id would repeat when a legend shows a layer twice).
            let d: String = hatch_lines(Hatch::of(t))
                .iter()
                .map(|[a, b]| format!("M{:.1} {:.1} L{:.1} {:.1} ", a[0], a[1], b[0], b[1]))
                .collect();
            format!(
                "{}<path d=\"{}\" stroke=\"{c}\" stroke-width=\"{LINE}\" stroke-opacity=\"{ALPHA}\"/>{}",
                rect(c, TINT_OPACITY, 0.0, ""),
                d.trim_end(),
                rect("none", 0.0, 1.6, dash)
            )
        }
    }
}

/// The hatch's lines inside the swatch (1..W-1 × 1..H-1), as in the sprite: lines of the
/// family a·x + b·y = k·PERIOD.
fn hatch_lines(h: Hatch) -> Vec<[[f64; 2]; 2]> {
    let families: &[(f64, f64)] = match h {
        Hatch::Rising => &[(1.0, 1.0)],
        Hatch::Falling => &[(1.0, -1.0)],
        Hatch::Level => &[(0.0, 1.0)],
        Hatch::Crossed => &[(1.0, 1.0), (1.0, -1.0)],
    };
    let (x0, y0, x1, y1) = (1.0, 1.0, W - 1.0, H - 1.0);
    let mut out = Vec::new();
    for &(a, b) in families {
        for k in -8..=8 {
            let c = k as f64 * PERIOD;
            // Where the line a·x + b·y = c crosses the box's edges.
            let mut pts: Vec<[f64; 2]> = Vec::new();
            for x in [x0, x1] {
                if b != 0.0 {
                    let y = (c - a * x) / b;
                    if (y0..=y1).contains(&y) {
                        pts.push([x, y]);
                    }
                }
            }
            for y in [y0, y1] {
                if a != 0.0 {
                    let x = (c - b * y) / a;
                    if (x0..=x1).contains(&x) {
                        pts.push([x, y]);
                    }
                }
            }
            pts.dedup();
            if let [p, q, ..] = pts[..]
                && p != q
            {
                out.push([p, q]);
            }
        }
    }
    out
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
        assert!(
            s.contains("<path d=\"M1.0 8.0 L17.0 8.0") || s.contains("L27.0"),
            "{s}"
        );
        assert!(!s.contains("<pattern"), "{s}");
        assert!(s.contains("stroke-dasharray=\"1.6 2.4\""), "{s}");
        let e = entry("p", "P", &diritto, "Polygon");
        assert_eq!(e.stato, "di_diritto");
        assert!(e.meaning.contains("Pericolosità"), "{}", e.meaning);
        assert!(swatch(&diritto, "Point").contains("fill=\"#ffffff\""));
    }
}
