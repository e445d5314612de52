//! Training plots as SVG: loss and accuracy per epoch.

use std::path::Path;

use plotters::prelude::*;

use crate::train::History;
use crate::{Error, Result};

impl History {
    /// Draws the loss (left) and, for classifiers, the accuracy (right) of
    /// every epoch, training and validation, as an SVG file. The file is
    /// written whole or not at all (a temporary file, then a rename).
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] for an empty history, [`Error::Io`] when the file
    /// cannot be written.
    ///
    /// ```
    /// use staticnet::train::{EpochRecord, History};
    ///
    /// let record = |epoch, loss| EpochRecord {
    ///     epoch,
    ///     learning_rate: 0.1,
    ///     train_loss: loss,
    ///     train_accuracy: Some(0.5 + 0.1 * epoch as f64),
    ///     validation_loss: Some(loss * 1.2),
    ///     validation_accuracy: Some(0.45 + 0.1 * epoch as f64),
    ///     seconds: 0.1,
    /// };
    /// let history = History { epochs: vec![record(1, 1.0), record(2, 0.5), record(3, 0.3)], best_epoch: 3, stopped_early: false };
    /// let path = std::env::temp_dir().join(format!("staticnet-plot-doc-{}.svg", std::process::id()));
    /// history.plot_svg(&path).unwrap();
    /// let svg = std::fs::read_to_string(&path).unwrap();
    /// assert!(svg.starts_with("<svg") && svg.contains("validation"));
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn plot_svg(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let svg = self.render_svg()?;
        crate::io::write_atomically(path, svg.as_bytes())
    }

    fn render_svg(&self) -> Result<String> {
        if self.epochs.is_empty() {
            return Err(Error::Invalid("the history has no epochs to plot".into()));
        }
        let classifier = self
            .epochs
            .iter()
            .any(|e| e.train_accuracy.is_some() || e.validation_accuracy.is_some());
        let mut svg = String::new();
        {
            let size = if classifier { (1000, 400) } else { (500, 400) };
            let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
            root.fill(&WHITE).map_err(draw_error)?;
            let areas = if classifier {
                root.split_evenly((1, 2))
            } else {
                vec![root.clone()]
            };
            let epochs: Vec<f64> = self.epochs.iter().map(|e| e.epoch as f64).collect();
            let series =
                |get: &dyn Fn(&crate::train::EpochRecord) -> Option<f64>| -> Vec<(f64, f64)> {
                    self.epochs
                        .iter()
                        .filter_map(|e| {
                            get(e)
                                .filter(|v| v.is_finite())
                                .map(|v| (e.epoch as f64, v))
                        })
                        .collect()
                };
            let losses = [
                ("training", series(&|e| Some(e.train_loss)), BLUE),
                ("validation", series(&|e| e.validation_loss), RED),
            ];
            draw_panel(&areas[0], "loss", &epochs, &losses)?;
            if classifier {
                let accuracies = [
                    (
                        "training",
                        series(&|e| e.train_accuracy.map(|a| 100.0 * a)),
                        BLUE,
                    ),
                    (
                        "validation",
                        series(&|e| e.validation_accuracy.map(|a| 100.0 * a)),
                        RED,
                    ),
                ];
                draw_panel(&areas[1], "accuracy (%)", &epochs, &accuracies)?;
            }
            root.present().map_err(draw_error)?;
        }
        Ok(svg)
    }
}

fn draw_error<E: std::fmt::Display>(e: E) -> Error {
    Error::Invalid(format!("plotting failed: {e}"))
}

/// One line of a panel: its legend, its points, its colour.
type Line<'a> = (&'a str, Vec<(f64, f64)>, RGBColor);

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    epochs: &[f64],
    lines: &[Line<'_>],
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let first = epochs.first().copied().unwrap_or(1.0);
    let last = epochs.last().copied().unwrap_or(1.0).max(first + 1.0);
    let values = lines
        .iter()
        .flat_map(|(_, points, _)| points.iter().map(|p| p.1));
    let (low, high) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let (low, high) = if low.is_finite() {
        (low, high)
    } else {
        (0.0, 1.0)
    };
    let pad = ((high - low) * 0.05).max(1e-9);
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 20))
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(55)
        .build_cartesian_2d(first..last, (low - pad)..(high + pad))
        .map_err(draw_error)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .draw()
        .map_err(draw_error)?;
    for (name, points, color) in lines {
        if points.is_empty() {
            continue;
        }
        let color = *color;
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                color.stroke_width(2),
            ))
            .map_err(draw_error)?
            .label(*name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(draw_error)?;
    Ok(())
}
