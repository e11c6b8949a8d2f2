//! Metrics: accuracy, top-k accuracy, confusion matrix, running mean.

use std::fmt;

use crate::autograd::Tensor;

/// Fraction of rows of `logits: [n, classes]` whose argmax is the label.
pub fn accuracy(logits: &Tensor, labels: &[usize]) -> f32 {
    top_k_accuracy(logits, labels, 1)
}

/// Fraction of rows whose label is among the `k` largest logits (ties
/// count against the label: it must beat all but `k − 1` others strictly
/// or be equal and come first).
pub fn top_k_accuracy(logits: &Tensor, labels: &[usize], k: usize) -> f32 {
    let s = logits.shape();
    assert!(
        s.len() == 2 && s[0] == labels.len(),
        "top_k_accuracy: logits {s:?} vs {} labels",
        labels.len()
    );
    if labels.is_empty() {
        return 0.0;
    }
    let c = s[1];
    let x = logits.data();
    let hits = labels
        .iter()
        .enumerate()
        .filter(|&(i, &l)| {
            let row = &x[i * c..][..c];
            let v = row[l];
            let better = row
                .iter()
                .enumerate()
                .filter(|&(j, &u)| u > v || (u == v && j < l))
                .count();
            better < k
        })
        .count();
    hits as f32 / labels.len() as f32
}

/// A running (weighted) mean, e.g. of the loss over an epoch.
#[derive(Clone, Copy, Debug, Default)]
pub struct Mean {
    sum: f64,
    weight: f64,
}

impl Mean {
    /// Adds `value` with `weight` (e.g. the batch size).
    pub fn add(&mut self, value: f32, weight: f32) {
        self.sum += value as f64 * weight as f64;
        self.weight += weight as f64;
    }

    /// The mean so far (0 when empty).
    pub fn value(&self) -> f32 {
        if self.weight == 0.0 {
            0.0
        } else {
            (self.sum / self.weight) as f32
        }
    }
}

/// Counts of (actual, predicted) class pairs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfusionMatrix {
    /// Number of classes.
    pub classes: usize,
    /// `counts[actual · classes + predicted]`.
    pub counts: Vec<usize>,
}

impl ConfusionMatrix {
    /// Empty, for `classes` classes.
    pub fn new(classes: usize) -> Self {
        ConfusionMatrix {
            classes,
            counts: vec![0; classes * classes],
        }
    }

    /// Counts one prediction.
    pub fn add(&mut self, actual: usize, predicted: usize) {
        self.counts[actual * self.classes + predicted] += 1;
    }

    /// Counts the argmax of every row of `logits` against `labels`.
    pub fn add_logits(&mut self, logits: &Tensor, labels: &[usize]) {
        for (p, &a) in logits.argmax(-1).iter().zip(labels) {
            self.add(a, *p);
        }
    }

    /// Count of `(actual, predicted)`.
    pub fn get(&self, actual: usize, predicted: usize) -> usize {
        self.counts[actual * self.classes + predicted]
    }

    /// Overall accuracy.
    pub fn accuracy(&self) -> f32 {
        let total: usize = self.counts.iter().sum();
        let right: usize = (0..self.classes).map(|c| self.get(c, c)).sum();
        if total == 0 {
            0.0
        } else {
            right as f32 / total as f32
        }
    }

    /// Recall of class `c` (correct / actual).
    pub fn recall(&self, c: usize) -> f32 {
        let n: usize = (0..self.classes).map(|p| self.get(c, p)).sum();
        if n == 0 {
            0.0
        } else {
            self.get(c, c) as f32 / n as f32
        }
    }

    /// Precision of class `c` (correct / predicted).
    pub fn precision(&self, c: usize) -> f32 {
        let n: usize = (0..self.classes).map(|a| self.get(a, c)).sum();
        if n == 0 {
            0.0
        } else {
            self.get(c, c) as f32 / n as f32
        }
    }
}

impl fmt::Display for ConfusionMatrix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "actual\\pred")?;
        for p in 0..self.classes {
            write!(f, "{p:>6}")?;
        }
        writeln!(f)?;
        for a in 0..self.classes {
            write!(f, "{a:>11}")?;
            for p in 0..self.classes {
                write!(f, "{:>6}", self.get(a, p))?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}
