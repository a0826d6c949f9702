//! Fleiss' kappa for a fixed number of ratings per item (Fleiss 1971).

use serde::Serialize;

use crate::{Estimate, LabelSet, QualityError, Undefined};

/// Fleiss' kappa with its parts and the counts it rests on.
#[derive(Debug, Clone, Serialize)]
pub struct FleissReport {
    /// Kappa, or why it is undefined.
    #[serde(flatten)]
    pub kappa: Estimate,
    /// Mean per-item agreement P̄.
    pub p_bar: Option<f64>,
    /// Chance agreement P̄_e = Σ p_j².
    pub p_e_bar: Option<f64>,
    /// Items rated.
    pub items: usize,
    /// Ratings per item.
    pub ratings_per_item: usize,
    /// Categories in the table.
    pub categories: usize,
    /// Share of all ratings in each category (p_j).
    pub category_shares: Vec<f64>,
}

/// Fleiss' kappa from a table `table[item][category]` of rating counts.
///
/// Every row must have the same length and the same total; rows summing to zero are skipped.
pub fn fleiss_kappa_from_table(table: &[Vec<u32>]) -> Result<FleissReport, QualityError> {
    let k = table.first().map_or(0, Vec::len);
    let mut first: Option<(usize, u64)> = None;
    let mut totals = vec![0u64; k];
    let mut sum_p = 0.0;
    let mut items = 0usize;
    for (i, row) in table.iter().enumerate() {
        if row.len() != k {
            return Err(QualityError::RaggedTable {
                row: i,
                found: row.len(),
                expected: k,
            });
        }
        let m: u64 = row.iter().map(|x| u64::from(*x)).sum();
        if m == 0 {
            continue;
        }
        match first {
            None => first = Some((i, m)),
            Some((fi, fm)) if fm != m => {
                return Err(QualityError::UnequalRatings {
                    first_item: fi as u32,
                    first_count: fm as usize,
                    item: i as u32,
                    count: m as usize,
                });
            }
            Some(_) => {}
        }
        items += 1;
        for (t, x) in totals.iter_mut().zip(row) {
            *t += u64::from(*x);
        }
        if m >= 2 {
            let sq: u64 = row.iter().map(|x| u64::from(*x) * u64::from(*x)).sum();
            sum_p += (sq - m) as f64 / (m * (m - 1)) as f64;
        }
    }
    let n = first.map_or(0, |(_, m)| m as usize);
    let grand: u64 = totals.iter().sum();
    let shares: Vec<f64> = totals
        .iter()
        .map(|t| {
            if grand == 0 {
                0.0
            } else {
                *t as f64 / grand as f64
            }
        })
        .collect();
    let mut report = FleissReport {
        kappa: Estimate::Undefined(Undefined::NoData),
        p_bar: None,
        p_e_bar: None,
        items,
        ratings_per_item: n,
        categories: k,
        category_shares: shares.clone(),
    };
    if items == 0 {
        return Ok(report);
    }
    if n < 2 {
        report.kappa = Estimate::Undefined(Undefined::OneAnnotator);
        return Ok(report);
    }
    let p_bar = sum_p / items as f64;
    let p_e: f64 = shares.iter().map(|p| p * p).sum();
    report.p_bar = Some(p_bar);
    report.p_e_bar = Some(p_e);
    report.kappa = if p_e >= 1.0 - 1e-12 {
        Estimate::Undefined(Undefined::ChanceAgreementOne)
    } else {
        Estimate::from_f64((p_bar - p_e) / (1.0 - p_e))
    };
    Ok(report)
}

/// Fleiss' kappa of a label set; every item with ratings must have the same number of them.
pub fn fleiss_kappa(labels: &LabelSet) -> Result<FleissReport, QualityError> {
    let k = labels.n_categories();
    let table: Vec<Vec<u32>> = (0..labels.n_items())
        .map(|i| {
            let mut row = vec![0u32; k];
            for &l in labels.labels_of(i) {
                row[l as usize] += 1;
            }
            row
        })
        .collect();
    fleiss_kappa_from_table(&table)
}
