//! The report's charts, as SVG written here: horizontal bars (one row per
//! category, its label at the left, its value at the bar's end) and
//! columns over months, each drawn for the width it is shown at. Every
//! text is placed so that it lies inside the picture and no two overlap;
//! count axes step by whole numbers. Writing to a `String` cannot fail,
//! so no drawing result is ever dropped.
//!
//! Sizes are CSS pixels: the page shows each picture at its own width (a
//! wide one for desktops, a narrow one for phones), never scaled.

use std::fmt::Write;

/// Font size of every chart text.
pub const FONT: f64 = 12.0;
/// Average advance of a character at [`FONT`] (sans-serif digits and
/// lower case); labels are measured with it, with room to spare.
const CHAR_W: f64 = 7.0;
const ROW_H: f64 = 22.0;
const BAR_H: f64 = 14.0;
const PAD: f64 = 6.0;

/// One category of a bar chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    /// Written at the bar's end (the value, formatted, when `None`).
    pub note: Option<String>,
}

impl Bar {
    pub fn new(label: impl Into<String>, value: f64) -> Bar {
        Bar {
            label: label.into(),
            value,
            note: None,
        }
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Bar {
        self.note = Some(note.into());
        self
    }

    fn text(&self, whole: bool) -> String {
        self.note
            .clone()
            .unwrap_or_else(|| number(self.value, whole))
    }
}

/// `1 234`, `5.5`, never `-0`.
pub fn number(v: f64, whole: bool) -> String {
    let v = if v == 0.0 || !v.is_finite() { 0.0 } else { v };
    let s = if whole || v.fract() == 0.0 {
        format!("{}", v.round() as i64)
    } else {
        format!("{v:.1}")
    };
    if s == "-0.0" || s == "-0" {
        String::from("0")
    } else {
        s
    }
}

pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Text no wider than `max` pixels: cut with an ellipsis.
fn fit(s: &str, max: f64) -> String {
    let room = (max / CHAR_W).floor().max(1.0) as usize;
    if s.chars().count() <= room {
        return s.to_string();
    }
    let mut out: String = s.chars().take(room.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn width_of(s: &str) -> f64 {
    s.chars().count() as f64 * CHAR_W
}

/// Ticks for `0..=max`: a "nice" step (1, 2 or 5 times a power of ten),
/// whole numbers when `whole`, about `target` of them.
pub fn ticks(lo: f64, hi: f64, whole: bool, target: usize) -> Vec<f64> {
    let span = (hi - lo).max(if whole { 1.0 } else { 1e-9 });
    let raw = span / target.max(1) as f64;
    let pow = 10f64.powf(raw.log10().floor());
    let mut step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * pow)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * pow);
    if whole {
        step = step.max(1.0).round();
    }
    let first = (lo / step).floor() as i64;
    let last = (hi / step).ceil() as i64;
    (first..=last.max(first + 1))
        .map(|k| {
            let t = k as f64 * step;
            if k == 0 { 0.0 } else { t }
        })
        .collect()
}

/// Open an SVG of `w` by `h` pixels with an accessible name.
fn open(svg: &mut String, w: f64, h: f64, title: &str) {
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w:.0}\" height=\"{h:.0}\" viewBox=\"0 0 {w:.0} {h:.0}\" role=\"img\" font-size=\"{FONT}\" font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif\"><title>{}</title>",
        esc(title)
    );
}

fn text(svg: &mut String, x: f64, y: f64, anchor: &str, class: &str, s: &str) {
    let _ = write!(
        svg,
        "<text x=\"{x:.1}\" y=\"{y:.1}\" text-anchor=\"{anchor}\" class=\"{class}\">{}</text>",
        esc(s)
    );
}

/// Horizontal bars, one row per category in the order given, for a
/// picture `width` pixels wide: the label left (cut to fit, in full on
/// hover), the value at the bar's end, a zero line, and an axis of `whole`
/// (counts) or decimal ticks. Negative values extend left of zero.
pub fn hbars(title: &str, bars: &[Bar], width: f64, color: &str, whole: bool) -> String {
    let label_w = bars
        .iter()
        .map(|b| width_of(&b.label))
        .fold(0.0, f64::max)
        .min(width * 0.38)
        .max(40.0);
    let note_w = bars
        .iter()
        .map(|b| width_of(&b.text(whole)))
        .fold(0.0, f64::max)
        + PAD;
    let (lo, hi) = bars.iter().fold((0.0f64, 0.0f64), |(lo, hi), b| {
        (lo.min(b.value), hi.max(b.value))
    });
    let hi = if hi <= lo { lo + 1.0 } else { hi };
    let axis = ticks(
        lo,
        hi,
        whole,
        ((width - label_w - note_w) / 70.0).max(2.0) as usize,
    );
    let (lo, hi) = (
        axis.first().copied().unwrap_or(lo).min(lo),
        axis.last().copied().unwrap_or(hi).max(hi),
    );
    let x0 = label_w + 2.0 * PAD;
    let x1 = (width - note_w - PAD).max(x0 + 20.0);
    let scale = |v: f64| x0 + (v - lo) / (hi - lo) * (x1 - x0);
    let top = FONT + 2.0 * PAD;
    let height = top + bars.len() as f64 * ROW_H + PAD;
    let mut svg = String::with_capacity(256 + bars.len() * 300);
    open(&mut svg, width, height, title);
    let xs: Vec<(f64, String)> = axis
        .iter()
        .map(|t| (scale(*t), number(*t, whole)))
        .collect();
    top_axis(&mut svg, &xs, top - 3.0, height - PAD);
    for (i, b) in bars.iter().enumerate() {
        let y = top + i as f64 * ROW_H;
        let mid = y + ROW_H / 2.0 + FONT * 0.35;
        let shown = fit(&b.label, label_w);
        let _ = write!(
            svg,
            "<g><title>{}: {}</title>",
            esc(&b.label),
            esc(&b.text(whole))
        );
        text(&mut svg, label_w + PAD, mid, "end", "label", &shown);
        let (a, z) = (scale(b.value.min(0.0)), scale(b.value.max(0.0)));
        let _ = write!(
            svg,
            "<rect x=\"{a:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{BAR_H}\" fill=\"{color}\"/>",
            y + (ROW_H - BAR_H) / 2.0,
            (z - a).max(if b.value == 0.0 { 0.0 } else { 1.0 })
        );
        // Right of the bar's end, or of zero for a negative bar, so it
        // never runs into the label column.
        text(&mut svg, z + 4.0, mid, "start", "value", &b.text(whole));
        svg.push_str("</g>");
    }
    let zx = scale(0.0);
    let _ = write!(
        svg,
        "<line x1=\"{zx:.1}\" y1=\"{:.1}\" x2=\"{zx:.1}\" y2=\"{:.1}\" class=\"zero\"/></svg>",
        top - 3.0,
        height - PAD
    );
    svg
}

/// The axis above a chart's rows: each tick's label, and a faint line down
/// from it to `y1`.
fn top_axis(svg: &mut String, ticks: &[(f64, String)], y0: f64, y1: f64) {
    for (x, label) in ticks {
        let _ = write!(
            svg,
            "<line x1=\"{x:.1}\" y1=\"{y0:.1}\" x2=\"{x:.1}\" y2=\"{y1:.1}\" class=\"grid\"/>"
        );
        text(svg, *x, FONT + 1.0, "middle", "tick", label);
    }
}

/// Several measures of the same categories side by side, one column of
/// bars each, the category labels once at the left (small multiples: no
/// legend). `columns`: each measure's title and values, in `labels` order.
pub fn hbar_columns(
    title: &str,
    labels: &[String],
    columns: &[(&str, Vec<f64>, &str)],
    width: f64,
) -> String {
    let label_w = labels
        .iter()
        .map(|l| width_of(l))
        .fold(0.0, f64::max)
        .min(width * 0.3)
        .max(40.0);
    let x0 = label_w + 2.0 * PAD;
    let col_w = (width - x0) / columns.len().max(1) as f64;
    let top = FONT + 2.0 * PAD;
    let height = top + labels.len() as f64 * ROW_H + PAD;
    let mut svg = String::new();
    open(&mut svg, width, height, title);
    for (i, l) in labels.iter().enumerate() {
        let mid = top + i as f64 * ROW_H + ROW_H / 2.0 + FONT * 0.35;
        text(
            &mut svg,
            label_w + PAD,
            mid,
            "end",
            "label",
            &fit(l, label_w),
        );
    }
    // One scale for every column, so bars compare across them.
    let max = columns
        .iter()
        .flat_map(|(_, v, _)| v.iter().copied())
        .fold(0.0f64, f64::max)
        .max(1.0);
    for (c, (name, values, color)) in columns.iter().enumerate() {
        let cx = x0 + c as f64 * col_w;
        text(
            &mut svg,
            cx,
            FONT + 1.0,
            "start",
            "head",
            &fit(name, col_w - PAD),
        );
        let note_w = values
            .iter()
            .map(|v| width_of(&number(*v, true)))
            .fold(0.0, f64::max)
            + PAD;
        let bar_room = (col_w - note_w - 2.0 * PAD).max(8.0);
        for (i, v) in values.iter().enumerate() {
            let y = top + i as f64 * ROW_H;
            let w = (v / max * bar_room).max(if *v > 0.0 { 1.0 } else { 0.0 });
            let _ = write!(
                svg,
                "<g><title>{}, {}: {}</title><rect x=\"{cx:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{BAR_H}\" fill=\"{color}\"/>",
                esc(&labels[i]),
                esc(name),
                number(*v, true),
                y + (ROW_H - BAR_H) / 2.0
            );
            text(
                &mut svg,
                cx + w + 4.0,
                y + ROW_H / 2.0 + FONT * 0.35,
                "start",
                "value",
                &number(*v, true),
            );
            svg.push_str("</g>");
        }
    }
    svg.push_str("</svg>");
    svg
}

/// Columns over time (months), a `whole`-number axis at the left, and as
/// many of the labels under the columns as fit without touching (always
/// the first and the last, inside the picture).
pub fn columns(title: &str, bars: &[Bar], width: f64, height: f64, color: &str) -> String {
    let max = bars.iter().map(|b| b.value).fold(0.0f64, f64::max);
    let axis = ticks(
        0.0,
        max.max(1.0),
        true,
        ((height - 40.0) / 36.0).max(2.0) as usize,
    );
    let top_v = axis.last().copied().unwrap_or(1.0).max(1.0);
    let axis_w = axis
        .iter()
        .map(|t| width_of(&number(*t, true)))
        .fold(0.0, f64::max)
        + PAD;
    let (x0, x1) = (axis_w + PAD, width - PAD);
    let (y0, y1) = (FONT / 2.0 + PAD, height - FONT - 2.0 * PAD);
    let n = bars.len().max(1) as f64;
    let slot = (x1 - x0) / n;
    let y = |v: f64| y1 - v / top_v * (y1 - y0);
    let mut svg = String::new();
    open(&mut svg, width, height, title);
    for t in &axis {
        let yy = y(*t);
        let _ = write!(
            svg,
            "<line x1=\"{x0:.1}\" y1=\"{yy:.1}\" x2=\"{x1:.1}\" y2=\"{yy:.1}\" class=\"grid\"/>"
        );
        text(
            &mut svg,
            axis_w,
            yy + FONT * 0.35,
            "end",
            "tick",
            &number(*t, true),
        );
    }
    let label_w = bars.iter().map(|b| width_of(&b.label)).fold(0.0, f64::max) + 2.0 * PAD;
    let every = (label_w / slot).ceil().max(1.0) as usize;
    let last = bars.len().saturating_sub(1);
    for (i, b) in bars.iter().enumerate() {
        let cx = x0 + (i as f64 + 0.5) * slot;
        let w = (slot * 0.7).max(1.0);
        let _ = write!(
            svg,
            "<g><title>{}: {}</title><rect x=\"{:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{:.1}\" fill=\"{color}\"/></g>",
            esc(&b.label),
            number(b.value, true),
            cx - w / 2.0,
            y(b.value),
            y1 - y(b.value)
        );
        // The last label takes the place of the regular one before it
        // when the two would touch.
        let regular = i % every == 0 && (i == last || last - i >= every);
        if regular || i == last {
            let half = width_of(&b.label) / 2.0;
            let (x, anchor) = if cx + half > width - 1.0 {
                (width - 1.0, "end")
            } else if cx - half < 1.0 {
                (1.0, "start")
            } else {
                (cx, "middle")
            };
            text(&mut svg, x, height - PAD, anchor, "tick", &b.label);
        }
    }
    let _ = write!(
        svg,
        "<line x1=\"{x0:.1}\" y1=\"{y1:.1}\" x2=\"{x1:.1}\" y2=\"{y1:.1}\" class=\"zero\"/></svg>"
    );
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_ticks_are_whole_numbers() {
        for max in [1.0, 2.0, 3.0, 7.0, 12.0, 99.0, 1234.0] {
            let t = ticks(0.0, max, true, 4);
            assert!(t.iter().all(|v| v.fract() == 0.0), "{max}: {t:?}");
            assert_eq!(t[0], 0.0);
            assert!(*t.last().unwrap() >= max, "{max}: {t:?}");
        }
        let t = ticks(-3.5, 10.0, false, 4);
        assert!(t[0] <= -3.5 && *t.last().unwrap() >= 10.0, "{t:?}");
    }

    #[test]
    fn no_minus_zero() {
        assert_eq!(number(-0.0, false), "0");
        assert_eq!(number(-0.04, false), "0");
        assert_eq!(number(5.5, false), "5.5");
        assert_eq!(number(3.0, true), "3");
    }

    #[test]
    fn a_label_that_does_not_fit_is_cut_and_kept_whole_on_hover() {
        let bars = [Bar::new(
            "a very long center name indeed, longer than any",
            3.0,
        )];
        let svg = hbars("t", &bars, 340.0, "#246", true);
        assert!(svg.contains('…'), "{svg}");
        assert!(svg.contains("<title>a very long center name indeed, longer than any: 3</title>"));
    }

    #[test]
    fn the_last_month_is_labelled_inside_the_picture() {
        let bars: Vec<Bar> = (1..=24)
            .map(|m| Bar::new(format!("2025-{m:02}"), m as f64))
            .collect();
        let svg = columns("t", &bars, 340.0, 180.0, "#246");
        assert!(svg.contains(">2025-24<"), "the last label is shown");
        assert!(
            svg.contains("text-anchor=\"end\" class=\"tick\">2025-24"),
            "{svg}"
        );
    }
}
