//! Cohen's kappa for two annotators, unweighted or with linear or quadratic weights.
//!
//! Convention: the categories are the label set's declared categories, in index order, whether
//! or not either annotator used each one; weights are by category index (rank), not by value.
//! So a declared but unused category lying between two used ones changes weighted kappa (it
//! stretches that distance); one at either end only rescales the weights and changes nothing.
//! The CLI infers the categories from the file unless `--categories` declares them.

use serde::Serialize;

use crate::{Estimate, LabelSet, QualityError, Undefined};

/// Agreement weights between categories i and j of k.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KappaWeights {
    /// 1 on the diagonal, 0 elsewhere.
    None,
    /// 1 − |i − j| / (k − 1).
    Linear,
    /// 1 − ((i − j) / (k − 1))².
    Quadratic,
}

/// Cohen's kappa with its parts and the counts it rests on.
#[derive(Debug, Clone, Serialize)]
pub struct CohenReport {
    /// Weighting used.
    pub weights: KappaWeights,
    /// Kappa, or why it is undefined.
    #[serde(flatten)]
    pub kappa: Estimate,
    /// (Weighted) observed agreement.
    pub observed_agreement: Option<f64>,
    /// (Weighted) chance agreement from the two annotators' marginals.
    pub expected_agreement: Option<f64>,
    /// Items rated by both annotators.
    pub items: usize,
    /// Items rated by only one of the two, left out.
    pub items_skipped: usize,
    /// Categories (declared).
    pub categories: usize,
    /// Contingency table: rows the first annotator, columns the second.
    pub table: Vec<Vec<u64>>,
}

/// Cohen's kappa from a square contingency table (rows: first annotator, columns: second).
pub fn cohen_kappa_from_table(
    table: &[Vec<u64>],
    weights: KappaWeights,
) -> Result<CohenReport, QualityError> {
    let k = table.len();
    for (i, row) in table.iter().enumerate() {
        if row.len() != k {
            return Err(QualityError::RaggedTable {
                row: i,
                found: row.len(),
                expected: k,
            });
        }
    }
    let total: u64 = table.iter().flatten().sum();
    let mut report = CohenReport {
        weights,
        kappa: Estimate::Undefined(Undefined::NoCommonItems),
        observed_agreement: None,
        expected_agreement: None,
        items: total as usize,
        items_skipped: 0,
        categories: k,
        table: table.to_vec(),
    };
    if total == 0 {
        return Ok(report);
    }
    if k < 2 && weights != KappaWeights::None {
        report.kappa = Estimate::Undefined(Undefined::OneCategory);
        return Ok(report);
    }
    let w = |i: usize, j: usize| -> f64 {
        let d = i.abs_diff(j) as f64;
        match weights {
            KappaWeights::None => f64::from(u8::from(i == j)),
            KappaWeights::Linear => 1.0 - d / (k - 1) as f64,
            KappaWeights::Quadratic => 1.0 - (d / (k - 1) as f64).powi(2),
        }
    };
    let n = total as f64;
    let rows: Vec<f64> = table
        .iter()
        .map(|r| r.iter().sum::<u64>() as f64 / n)
        .collect();
    let cols: Vec<f64> = (0..k)
        .map(|j| table.iter().map(|r| r[j]).sum::<u64>() as f64 / n)
        .collect();
    let mut po = 0.0;
    let mut pe = 0.0;
    for i in 0..k {
        for j in 0..k {
            let wij = w(i, j);
            po += wij * table[i][j] as f64 / n;
            pe += wij * rows[i] * cols[j];
        }
    }
    report.observed_agreement = Some(po);
    report.expected_agreement = Some(pe);
    report.kappa = if pe >= 1.0 - 1e-12 {
        Estimate::Undefined(Undefined::ChanceAgreementOne)
    } else {
        Estimate::from_f64((po - pe) / (1.0 - pe))
    };
    Ok(report)
}

/// Cohen's kappa between annotator 0 (rows) and annotator 1 (columns) of a two-annotator set.
///
/// Items rated by only one of them are left out and counted in `items_skipped`.
pub fn cohen_kappa(labels: &LabelSet, weights: KappaWeights) -> Result<CohenReport, QualityError> {
    if labels.n_annotators() != 2 {
        return Err(QualityError::NotTwoAnnotators {
            found: labels.n_annotators(),
        });
    }
    let k = labels.n_categories();
    let mut table = vec![vec![0u64; k]; k];
    let mut skipped = 0;
    for item in 0..labels.n_items() {
        let (anns, ls) = (labels.annotators_of(item), labels.labels_of(item));
        match (anns, ls) {
            ([a0, _], [l0, l1]) => {
                let (r, c) = if *a0 == 0 { (l0, l1) } else { (l1, l0) };
                table[*r as usize][*c as usize] += 1;
            }
            ([_], _) => skipped += 1,
            _ => {}
        }
    }
    let mut report = cohen_kappa_from_table(&table, weights)?;
    report.items_skipped = skipped;
    Ok(report)
}
