//! The SVG is well-formed and shows what it was given.

use std::time::Duration;

use super::*;

/// Checks that every tag is closed in order, every attribute quoted and every `&`
/// an entity: well-formed XML for the subset this module writes.
fn well_formed(svg: &str) -> Result<(), String> {
    let mut open: Vec<&str> = Vec::new();
    let mut rest = svg;
    while let Some(start) = rest.find('<') {
        let text = &rest[..start];
        if text.contains('>')
            || text
                .replace("&amp;", "")
                .replace("&lt;", "")
                .replace("&gt;", "")
                .replace("&quot;", "")
                .contains('&')
        {
            return Err(format!("bad text {text:?}"));
        }
        let end = rest[start..].find('>').ok_or("an unclosed tag")? + start;
        let tag = &rest[start + 1..end];
        if !tag.matches('"').count().is_multiple_of(2) || tag.contains('<') {
            return Err(format!("bad tag {tag:?}"));
        }
        if let Some(name) = tag.strip_prefix('/') {
            if open.pop() != Some(name) {
                return Err(format!("</{name}> closes nothing"));
            }
        } else if !tag.ends_with('/') {
            open.push(tag.split_whitespace().next().ok_or("an empty tag")?);
        }
        rest = &rest[end + 1..];
    }
    if open.is_empty() && rest.trim().is_empty() {
        Ok(())
    } else {
        Err(format!("unclosed {open:?}"))
    }
}

#[test]
fn charts_render_as_well_formed_svg_with_every_series() {
    let mut histogram = Histogram::default();
    for ms in 1..=1000 {
        histogram.record(Duration::from_micros(ms * 37));
    }
    let charts = [
        Chart {
            title: "latency <p50 & p99>".into(),
            x: Axis::new("percentile", Scale::Nines),
            y: Axis::new("ms", Scale::Log),
            series: vec![
                percentile_series("render", &histogram),
                percentile_series("empty", &Histogram::default()),
            ],
        },
        Chart {
            title: "over time".into(),
            x: Axis::new("s", Scale::Linear),
            y: Axis::new("ms", Scale::Linear),
            series: vec![Series {
                name: "p99".into(),
                points: vec![(0.0, 1.0), (0.25, f64::NAN), (0.5, 3.0)],
            }],
        },
        Chart {
            title: "nothing".into(),
            x: Axis::new("s", Scale::Linear),
            y: Axis::new("ms", Scale::Log),
            series: vec![],
        },
    ];
    let svg = render("loadgen \"fanout\"", &charts);
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert_eq!(well_formed(&svg), Ok(()));
    assert!(well_formed("<svg><g></svg>").is_err() && well_formed("<svg>a & b</svg>").is_err());
    for expected in [
        "render (n=1000)",
        "empty (n=0)",
        ">p99<",
        "latency &lt;p50 &amp; p99&gt;",
        ">99.9%<",
        ">no data<",
    ] {
        assert!(svg.contains(expected), "{expected} missing");
    }
    assert_eq!(svg.matches("<polyline").count(), 3);
    assert!(!svg.contains("NaN") && !svg.contains("inf"));
}
