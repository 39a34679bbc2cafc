//! `--plot`: line charts written as a small, self-contained SVG.
//!
//! Hand-written rather than a plotting crate: a few polylines with axes, ticks, labels and
//! a legend are all loadgen needs, and SVG text is laid out by whatever displays the file,
//! so no font has to be found or embedded here (plotters would need a font backend).

use std::fmt::Write;

use crate::report::Histogram;

mod scale;

pub use scale::Scale;

/// One axis: what it shows and how.
#[derive(Debug, Clone)]
pub struct Axis {
    /// The label under or beside the axis.
    pub label: String,
    /// Its scale.
    pub scale: Scale,
}

/// One named line of (x, y) points.
#[derive(Debug, Clone)]
pub struct Series {
    /// Its name in the legend.
    pub name: String,
    /// Its points, in drawing order.
    pub points: Vec<(f64, f64)>,
}

/// One chart: a title, two axes and some lines.
#[derive(Debug, Clone)]
pub struct Chart {
    /// Shown above the chart.
    pub title: String,
    /// The horizontal axis.
    pub x: Axis,
    /// The vertical axis.
    pub y: Axis,
    /// The lines.
    pub series: Vec<Series>,
}

impl Axis {
    /// An axis labelled `label` with `scale`.
    pub fn new(label: &str, scale: Scale) -> Self {
        Self {
            label: label.to_owned(),
            scale,
        }
    }
}

/// A histogram as a percentile curve for a [`Scale::Nines`] x axis and a millisecond y
/// axis: 50 points per nine, up to the nines its sample count can tell apart.
pub fn percentile_series(name: &str, histogram: &Histogram) -> Series {
    let nines = (histogram.count().max(1) as f64).log10();
    let steps = if histogram.count() == 0 {
        0
    } else {
        (nines * 50.0).ceil() as usize + 1
    };
    Series {
        name: format!("{name} (n={})", histogram.count()),
        points: (0..steps)
            .map(|i| 1.0 - 10f64.powf(-(i as f64 / 50.0).min(nines)))
            .map(|q| (q, histogram.value_at(q)))
            .collect(),
    }
}

const WIDTH: f64 = 900.0;
const HEIGHT: f64 = 360.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 250.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 55.0;
const COLORS: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
];

/// Escapes text for SVG content and attributes.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The charts, one under the other, as an SVG document titled `title`.
pub fn render(title: &str, charts: &[Chart]) -> String {
    let height = 30.0 + HEIGHT * charts.len() as f64;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = write!(
        svg,
        r#"<rect width="100%" height="100%" fill="white"/><text x="{}" y="20" text-anchor="middle" font-size="15" font-weight="bold">{}</text>"#,
        WIDTH / 2.0,
        escape(title)
    );
    for (i, chart) in charts.iter().enumerate() {
        draw(&mut svg, chart, 30.0 + HEIGHT * i as f64);
    }
    svg.push_str("</svg>\n");
    svg
}

/// The smallest and largest mapped value on `axis` (0 to 1 without data), leaving out
/// what the scale cannot show (zero and below on a log axis, non-finite values).
fn bounds(chart: &Chart, axis: &Axis, pick: fn(&(f64, f64)) -> f64) -> (f64, f64) {
    let shown = |v: &f64| v.is_finite() && (axis.scale != Scale::Log || *v > 0.0);
    let values = chart.series.iter().flat_map(|s| s.points.iter().map(pick));
    let mapped = values.filter(shown).map(|v| axis.scale.map(v));
    let (lo, hi) = mapped.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if lo <= hi { (lo, hi) } else { (0.0, 1.0) }
}

fn draw(svg: &mut String, chart: &Chart, top: f64) {
    let (x0, y0, w, h) = (LEFT, top + TOP, WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM);
    let finite = |(x, y): &(f64, f64)| x.is_finite() && y.is_finite();
    let (xb, yb) = (
        bounds(chart, &chart.x, |p| p.0),
        bounds(chart, &chart.y, |p| p.1),
    );
    let ((xlo, xhi), xticks) = chart.x.scale.ticks(xb.0, xb.1);
    let ((ylo, yhi), yticks) = chart.y.scale.ticks(yb.0, yb.1);
    let px = |x: f64| x0 + (x.clamp(xlo, xhi) - xlo) / (xhi - xlo) * w;
    let py = |y: f64| y0 + h - (y.clamp(ylo, yhi) - ylo) / (yhi - ylo) * h;
    let _ = write!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle" font-size="13">{}</text><rect x="{x0}" y="{y0}" width="{w}" height="{h}" fill="none" stroke="black"/>"#,
        x0 + w / 2.0,
        y0 - 10.0,
        escape(&chart.title)
    );
    for (x, label) in xticks {
        let _ = write!(
            svg,
            r##"<line x1="{0:.1}" y1="{y0}" x2="{0:.1}" y2="{1}" stroke="#ddd"/><text x="{0:.1}" y="{2}" text-anchor="middle">{3}</text>"##,
            px(x),
            y0 + h,
            y0 + h + 16.0,
            escape(&label)
        );
    }
    for (y, label) in yticks {
        let _ = write!(
            svg,
            r##"<line x1="{x0}" y1="{0:.1}" x2="{1}" y2="{0:.1}" stroke="#ddd"/><text x="{2}" y="{3:.1}" text-anchor="end">{4}</text>"##,
            py(y),
            x0 + w,
            x0 - 6.0,
            py(y) + 4.0,
            escape(&label)
        );
    }
    let _ = write!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle">{}</text><text transform="translate({},{}) rotate(-90)" text-anchor="middle">{}</text>"#,
        x0 + w / 2.0,
        y0 + h + 38.0,
        escape(&chart.x.label),
        x0 - 55.0,
        y0 + h / 2.0,
        escape(&chart.y.label)
    );
    if chart.series.iter().all(|s| s.points.is_empty()) {
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="middle">no data</text>"#,
            x0 + w / 2.0,
            y0 + h / 2.0
        );
    }
    for (i, series) in chart.series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let path: Vec<String> = (series.points.iter().filter(|p| finite(p)))
            .map(|(x, y)| {
                format!(
                    "{:.1},{:.1}",
                    px(chart.x.scale.map(*x)),
                    py(chart.y.scale.map(*y))
                )
            })
            .collect();
        let ly = y0 + 10.0 + 18.0 * i as f64;
        let _ = write!(
            svg,
            r#"<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{}"/><line x1="{}" y1="{ly}" x2="{}" y2="{ly}" stroke="{color}" stroke-width="3"/><text x="{}" y="{}">{}</text>"#,
            path.join(" "),
            x0 + w + 12.0,
            x0 + w + 32.0,
            x0 + w + 38.0,
            ly + 4.0,
            escape(&series.name)
        );
    }
}

#[cfg(test)]
mod tests;
