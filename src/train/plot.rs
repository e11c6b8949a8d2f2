//! PNG plots of training curves (plotters, bitmap backend).
//!
//! plotters is built without its system-font feature, so no fontconfig or
//! freetype is needed to build. Text is drawn with `ab_glyph` from a TTF
//! font found at run time: the file named by `$EDGEGRAD_FONT` if set (set it
//! empty for no text), else DejaVu Sans / Liberation Sans / Arial at their
//! usual Linux and macOS paths. Without a font the curves are drawn without
//! labels (the colours are fixed: training blue, validation red).

use std::path::Path;
use std::sync::OnceLock;

use plotters::prelude::*;

use super::error::TrainError;
use super::fit::History;

const FONT_CANDIDATES: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/Library/Fonts/Arial.ttf",
    "/System/Library/Fonts/Supplemental/Arial.ttf",
];

/// Registers a font for plotters once; true if one was found.
fn font_available() -> bool {
    static FOUND: OnceLock<bool> = OnceLock::new();
    *FOUND.get_or_init(|| {
        // An explicit EDGEGRAD_FONT is the only candidate (empty: no text).
        let candidates: Vec<String> = match std::env::var("EDGEGRAD_FONT") {
            Ok(p) => vec![p],
            Err(_) => FONT_CANDIDATES.iter().map(|s| s.to_string()).collect(),
        };
        for p in &candidates {
            if let Ok(bytes) = std::fs::read(p) {
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                if plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok() {
                    return true;
                }
            }
        }
        false
    })
}

fn plot_err(path: &Path, e: impl std::fmt::Display) -> TrainError {
    TrainError::Plot {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Draws series `(label, color, values per epoch)` into two panels: the
/// losses on the left, the other metrics on the right.
pub(crate) fn plot_history(h: &History, path: &Path) -> Result<(), TrainError> {
    let text = font_available();
    let root = BitMapBackend::new(path, (1000, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_err(path, e))?;
    let panels = root.split_evenly((1, 2));
    type Series = Vec<(String, Vec<f32>)>;
    let groups: [(&str, Series); 2] = [
        (
            "loss",
            h.series()
                .into_iter()
                .filter(|(n, _)| n.ends_with("loss"))
                .collect(),
        ),
        (
            "metrics",
            h.series()
                .into_iter()
                .filter(|(n, _)| !n.ends_with("loss") && n != "lr")
                .collect(),
        ),
    ];
    let colors = [BLUE, RED, GREEN, MAGENTA, CYAN, BLACK];
    for (panel, (title, series)) in panels.iter().zip(groups) {
        if series.is_empty() {
            continue;
        }
        let n = series
            .iter()
            .map(|(_, v)| v.len())
            .max()
            .unwrap_or(1)
            .max(2);
        let (mut lo, mut hi) = series
            .iter()
            .flat_map(|(_, v)| v.iter().copied())
            .filter(|v| v.is_finite())
            .fold((f32::MAX, f32::MIN), |(a, b), v| (a.min(v), b.max(v)));
        if lo > hi {
            (lo, hi) = (0.0, 1.0);
        }
        let pad = ((hi - lo) * 0.05).max(1e-3);
        let mut b = ChartBuilder::on(panel);
        b.margin(12)
            .x_label_area_size(if text { 30 } else { 5 })
            .y_label_area_size(if text { 50 } else { 5 });
        if text {
            b.caption(title, ("sans-serif", 20));
        }
        let mut chart = b
            .build_cartesian_2d(1f32..n as f32, (lo - pad)..(hi + pad))
            .map_err(|e| plot_err(path, e))?;
        if text {
            chart
                .configure_mesh()
                .x_desc("epoch")
                .draw()
                .map_err(|e| plot_err(path, e))?;
        } else {
            chart
                .configure_mesh()
                .disable_x_mesh()
                .disable_y_mesh()
                .x_labels(0)
                .y_labels(0)
                .draw()
                .map_err(|e| plot_err(path, e))?;
        }
        for (i, (name, v)) in series.iter().enumerate() {
            let c = colors[i % colors.len()];
            // Markers too, so a single epoch still shows.
            chart
                .draw_series(
                    v.iter()
                        .enumerate()
                        .map(|(e, &y)| Circle::new((e as f32 + 1.0, y), 3, c.filled())),
                )
                .map_err(|e| plot_err(path, e))?;
            let s = chart
                .draw_series(LineSeries::new(
                    v.iter().enumerate().map(|(e, &y)| (e as f32 + 1.0, y)),
                    c.stroke_width(2),
                ))
                .map_err(|e| plot_err(path, e))?;
            if text {
                s.label(name.clone()).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2))
                });
            }
        }
        if text {
            chart
                .configure_series_labels()
                .border_style(BLACK)
                .background_style(WHITE.mix(0.8))
                .draw()
                .map_err(|e| plot_err(path, e))?;
        }
    }
    root.present().map_err(|e| plot_err(path, e))?;
    Ok(())
}
