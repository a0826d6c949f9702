//! Dawid-Skene (1979): class priors and per-annotator confusion matrices by EM, unsupervised.
//!
//! Starts from majority-vote shares, then alternates the M-step (priors and confusion rows from
//! the soft labels, each count smoothed by a small pseudo-count so no probability is zero) and
//! the E-step (posteriors from the log-likelihoods), until no prior or confusion probability moves
//! by more than the tolerance between two iterations.

use serde::Serialize;

use super::{ItemLabel, TieBreak, softmax_in_place};
use crate::{Estimate, LabelSet, QualityError, Undefined};

/// Settings of the EM.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DawidSkeneConfig {
    /// Stop when no probability moves by more than this between iterations.
    pub tolerance: f64,
    /// Give up (with `converged = false`) after this many iterations.
    pub max_iterations: usize,
    /// Pseudo-count added to every prior and confusion cell.
    pub smoothing: f64,
}

impl Default for DawidSkeneConfig {
    fn default() -> Self {
        DawidSkeneConfig {
            tolerance: 1e-6,
            max_iterations: 1000,
            smoothing: 0.01,
        }
    }
}

/// The fitted model and the labels it gives.
#[derive(Debug, Clone, Serialize)]
pub struct DawidSkene {
    /// One entry per item; items without judgments get no label and the priors as posterior.
    pub items: Vec<ItemLabel>,
    /// Estimated class priors.
    pub priors: Vec<f64>,
    /// `confusion[annotator][true][given]`: probability of giving `given` when the truth is `true`.
    pub confusion: Vec<Vec<Vec<f64>>>,
    /// Per annotator: expected share of their labels equal to the true class, under the posteriors.
    pub annotator_accuracy: Vec<Estimate>,
    /// Per annotator: judgments given.
    pub annotator_judgments: Vec<usize>,
    /// EM iterations run.
    pub iterations: usize,
    /// Whether the tolerance was reached.
    pub converged: bool,
    /// Marginal log-likelihood of the judgments at the end.
    pub log_likelihood: f64,
}

/// The EM's result: soft labels `t[i * k + c]` and the parameters.
struct Em {
    t: Vec<f64>,
    priors: Vec<f64>,
    theta: Vec<f64>,
    iterations: usize,
    converged: bool,
    log_likelihood: f64,
}

/// Runs the EM to the tolerance or the iteration cap.
fn em(labels: &LabelSet, config: DawidSkeneConfig) -> Result<Em, QualityError> {
    if !(config.tolerance > 0.0 && config.smoothing > 0.0 && config.max_iterations > 0) {
        return Err(QualityError::InvalidConfig(
            "Dawid-Skene needs a positive tolerance, smoothing and iteration cap".into(),
        ));
    }
    let k = labels.n_categories();
    let n_ann = labels.n_annotators();
    let n_items = labels.n_items();

    // Soft labels T[i*k + c], started from vote shares.
    let mut t = vec![0.0; n_items * k];
    for i in 0..n_items {
        let ls = labels.labels_of(i);
        for &l in ls {
            t[i * k + l as usize] += 1.0 / ls.len() as f64;
        }
    }
    // Parameters: priors, and log θ laid out [(a*k + given)*k + true] so the E-step reads
    // one contiguous run of k per judgment.
    let mut priors = vec![1.0 / k as f64; k];
    let mut theta = vec![0.0; n_ann * k * k];
    let mut log_theta = vec![0.0; n_ann * k * k];
    let mut counts = vec![0.0; n_ann * k * k];
    let mut row_tot = vec![0.0; n_ann * k];
    let mut iterations = 0;
    let mut converged = false;
    let mut ll: f64;
    let mut scores = vec![0.0; k];
    loop {
        // M-step.
        counts.iter_mut().for_each(|x| *x = 0.0);
        row_tot.iter_mut().for_each(|x| *x = 0.0);
        let mut class_tot = vec![0.0; k];
        let mut judged = 0.0;
        for i in 0..n_items {
            let ls = labels.labels_of(i);
            if ls.is_empty() {
                continue;
            }
            judged += 1.0;
            let ti = &t[i * k..(i + 1) * k];
            for (ct, x) in class_tot.iter_mut().zip(ti) {
                *ct += x;
            }
            for (&a, &l) in labels.annotators_of(i).iter().zip(ls) {
                let base = (a as usize * k + l as usize) * k;
                for (cnt, x) in counts[base..base + k].iter_mut().zip(ti) {
                    *cnt += x;
                }
                for (rt, x) in row_tot[a as usize * k..(a as usize + 1) * k]
                    .iter_mut()
                    .zip(ti)
                {
                    *rt += x;
                }
            }
        }
        let mut delta: f64 = 0.0;
        let s = config.smoothing;
        for c in 0..k {
            let p = (class_tot[c] + s) / (judged + k as f64 * s);
            delta = delta.max((p - priors[c]).abs());
            priors[c] = p;
        }
        for a in 0..n_ann {
            for given in 0..k {
                let base = (a * k + given) * k;
                for tr in 0..k {
                    let p = (counts[base + tr] + s) / (row_tot[a * k + tr] + k as f64 * s);
                    delta = delta.max((p - theta[base + tr]).abs());
                    theta[base + tr] = p;
                    log_theta[base + tr] = p.ln();
                }
            }
        }
        iterations += 1;
        // E-step.
        let log_priors: Vec<f64> = priors.iter().map(|p| p.ln()).collect();
        ll = 0.0;
        for i in 0..n_items {
            let ls = labels.labels_of(i);
            if ls.is_empty() {
                t[i * k..(i + 1) * k].copy_from_slice(&priors);
                continue;
            }
            scores.copy_from_slice(&log_priors);
            for (&a, &l) in labels.annotators_of(i).iter().zip(ls) {
                let base = (a as usize * k + l as usize) * k;
                for (sc, lt) in scores.iter_mut().zip(&log_theta[base..base + k]) {
                    *sc += lt;
                }
            }
            ll += softmax_in_place(&mut scores);
            t[i * k..(i + 1) * k].copy_from_slice(&scores);
        }
        if iterations > 1 && delta < config.tolerance {
            converged = true;
            break;
        }
        if iterations >= config.max_iterations {
            break;
        }
    }

    Ok(Em {
        t,
        priors,
        theta,
        iterations,
        converged,
        log_likelihood: ll,
    })
}

/// Fits Dawid-Skene to `labels`.
pub fn dawid_skene(
    labels: &LabelSet,
    config: DawidSkeneConfig,
) -> Result<DawidSkene, QualityError> {
    let Em {
        t,
        priors,
        theta,
        iterations,
        converged,
        log_likelihood: ll,
    } = em(labels, config)?;
    let k = labels.n_categories();
    let n_ann = labels.n_annotators();
    let n_items = labels.n_items();
    let tb = TieBreak::new(labels);
    let mut acc = vec![(0.0, 0usize); n_ann];
    let items = (0..n_items)
        .map(|i| {
            let post = t[i * k..(i + 1) * k].to_vec();
            let ls = labels.labels_of(i);
            for (&a, &l) in labels.annotators_of(i).iter().zip(ls) {
                acc[a as usize].0 += post[l as usize];
                acc[a as usize].1 += 1;
            }
            let (label, tied) = if ls.is_empty() {
                (None, false)
            } else {
                tb.pick(&post)
            };
            ItemLabel {
                label,
                posterior: post,
                tied,
                votes: ls.len(),
            }
        })
        .collect();
    let confusion = (0..n_ann)
        .map(|a| {
            (0..k)
                .map(|tr| (0..k).map(|g| theta[(a * k + g) * k + tr]).collect())
                .collect()
        })
        .collect();
    Ok(DawidSkene {
        items,
        priors,
        confusion,
        annotator_accuracy: acc
            .iter()
            .map(|(s, n)| {
                if *n == 0 {
                    Estimate::Undefined(Undefined::NoData)
                } else {
                    Estimate::from_f64(s / *n as f64)
                }
            })
            .collect(),
        annotator_judgments: acc.iter().map(|(_, n)| *n).collect(),
        iterations,
        converged,
        log_likelihood: ll,
    })
}

/// Fits Dawid-Skene to `labels` and keeps, per item, only the label it gives and that
/// label's posterior (`None` for an item without judgments): 8 bytes an item instead of
/// an [`ItemLabel`] with its posterior vector, for callers that fit millions of items
/// (exports). Same EM and tie-break as [`dawid_skene`].
pub fn dawid_skene_winners(
    labels: &LabelSet,
    config: DawidSkeneConfig,
) -> Result<Vec<Option<(u32, f32)>>, QualityError> {
    let em = em(labels, config)?;
    let k = labels.n_categories();
    let tb = TieBreak::new(labels);
    Ok((0..labels.n_items())
        .map(|i| {
            if labels.labels_of(i).is_empty() {
                return None;
            }
            let post = &em.t[i * k..(i + 1) * k];
            let (label, _) = tb.pick(post);
            label.map(|l| (l, post[l as usize] as f32))
        })
        .collect())
}
