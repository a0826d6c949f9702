//! Bradley-Terry maximum likelihood for pairwise outcomes, ties counted as half a win each.
//!
//! Comparisons are first folded into an options×options win matrix, so the fit costs the same
//! for a thousand comparisons or a million. The log-likelihood
//! `Σ_{i≠j} W_ij ln σ(β_i − β_j)` is concave; Newton's method with step halving, on the
//! log-strengths with one option fixed at zero, converges in a handful of iterations. Standard
//! errors come from the inverse Fisher information with that option fixed, then carried to the
//! chosen normalisation (mean zero by default, or zero at a reference option).
//!
//! The estimate is finite only if the "beat" graph is strongly connected: every option must,
//! through some chain of comparisons, have both beaten and lost to every other (Zermelo, Ford).

use serde::Serialize;

use crate::QualityError;

/// Options above this count are refused: Newton solves a dense (n−1)×(n−1) system.
pub const MAX_OPTIONS: usize = 1000;

/// The outcome of a pairwise judgment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Winner {
    /// The left option won.
    Left,
    /// The right option won.
    Right,
    /// Neither: half a win each.
    #[default]
    Tie,
}

/// One comparison of option `left` with option `right`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Comparison {
    /// Option index.
    pub left: u32,
    /// Option index, different from `left`.
    pub right: u32,
    /// Who won.
    pub winner: Winner,
}

/// How log-strengths are pinned down (they are identified only up to a constant).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Normalization {
    /// Log-strengths sum to zero.
    MeanZero,
    /// This option's log-strength is zero (its standard error is zero by construction).
    Reference(u32),
}

/// Settings of the fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BradleyTerryConfig {
    /// Stop when no log-strength moves by more than this.
    pub tolerance: f64,
    /// Give up after this many Newton steps.
    pub max_iterations: usize,
    /// How to pin the log-strengths.
    pub normalization: Normalization,
}

impl Default for BradleyTerryConfig {
    fn default() -> Self {
        BradleyTerryConfig {
            tolerance: 1e-10,
            max_iterations: 100,
            normalization: Normalization::MeanZero,
        }
    }
}

/// One option's estimate.
#[derive(Debug, Clone, Serialize)]
pub struct OptionStrength {
    /// Option index.
    pub option: u32,
    /// Log-strength β under the normalisation.
    pub log_strength: f64,
    /// Standard error of β under the normalisation.
    pub std_error: f64,
    /// Wins, ties counting half.
    pub wins: f64,
    /// Comparisons the option took part in.
    pub comparisons: u64,
}

/// The fitted model.
#[derive(Debug, Clone, Serialize)]
pub struct BradleyTerry {
    /// One entry per option, by index.
    pub options: Vec<OptionStrength>,
    /// Normalisation used.
    pub normalization: Normalization,
    /// Comparisons used.
    pub comparisons: u64,
    /// Log-likelihood at the estimate (ties as half wins).
    pub log_likelihood: f64,
    /// Newton steps taken.
    pub iterations: usize,
    /// Whether the tolerance was reached.
    pub converged: bool,
}

/// Fits Bradley-Terry to comparisons among `n_options` options.
pub fn bradley_terry(
    n_options: usize,
    comparisons: &[Comparison],
    config: BradleyTerryConfig,
) -> Result<BradleyTerry, QualityError> {
    if n_options > MAX_OPTIONS {
        return Err(QualityError::InvalidConfig(format!(
            "{n_options} options; Bradley-Terry here takes at most {MAX_OPTIONS}"
        )));
    }
    let n = n_options;
    // Doubled wins, so ties stay integers: 2 for a win, 1 each for a tie.
    let mut w2 = vec![0u64; n * n];
    for (idx, c) in comparisons.iter().enumerate() {
        for o in [c.left, c.right] {
            if o as usize >= n {
                return Err(QualityError::OptionOutOfRange { index: o, count: n });
            }
        }
        if c.left == c.right {
            return Err(QualityError::SelfComparison {
                index: idx,
                option: c.left,
            });
        }
        let (l, r) = (c.left as usize, c.right as usize);
        match c.winner {
            Winner::Left => w2[l * n + r] += 2,
            Winner::Right => w2[r * n + l] += 2,
            Winner::Tie => {
                w2[l * n + r] += 1;
                w2[r * n + l] += 1;
            }
        }
    }
    let wins: Vec<Vec<f64>> = (0..n)
        .map(|i| (0..n).map(|j| w2[i * n + j] as f64 / 2.0).collect())
        .collect();
    let mut fit = bradley_terry_from_wins(&wins, config)?;
    let mut per = vec![0u64; n];
    for c in comparisons {
        per[c.left as usize] += 1;
        per[c.right as usize] += 1;
    }
    for (o, p) in fit.options.iter_mut().zip(per) {
        o.comparisons = p;
    }
    fit.comparisons = comparisons.len() as u64;
    Ok(fit)
}

/// Fits Bradley-Terry to a win matrix, `wins[i][j]` = wins of i over j (ties already halved).
///
/// `comparisons` per option are taken as `Σ_j wins[i][j] + wins[j][i]` rounded.
pub fn bradley_terry_from_wins(
    wins: &[Vec<f64>],
    config: BradleyTerryConfig,
) -> Result<BradleyTerry, QualityError> {
    let n = wins.len();
    for (i, row) in wins.iter().enumerate() {
        if row.len() != n {
            return Err(QualityError::RaggedTable {
                row: i,
                found: row.len(),
                expected: n,
            });
        }
        if let Some(x) = row.iter().find(|x| !(x.is_finite() && **x >= 0.0)) {
            return Err(QualityError::InvalidConfig(format!(
                "win counts must be finite and non-negative, got {x}"
            )));
        }
    }
    if let Normalization::Reference(r) = config.normalization
        && r as usize >= n
    {
        return Err(QualityError::OptionOutOfRange { index: r, count: n });
    }
    if n < 2 {
        return Err(QualityError::InvalidConfig(
            "Bradley-Terry needs at least two options".into(),
        ));
    }
    check_connected(wins)?;
    let games = |i: usize, j: usize| wins[i][j] + wins[j][i];
    let total_wins: Vec<f64> = wins.iter().map(|r| r.iter().sum()).collect();
    // Free parameters: all options but the last, which is fixed at 0 during the fit.
    let m = n - 1;
    let mut beta = vec![0.0; n];
    let loglik = |b: &[f64]| -> f64 {
        let mut ll = 0.0;
        for i in 0..n {
            for j in 0..n {
                if wins[i][j] > 0.0 {
                    ll -= wins[i][j] * softplus(b[j] - b[i]);
                }
            }
        }
        ll
    };
    let mut ll = loglik(&beta);
    let mut iterations = 0;
    let mut converged = false;
    let mut info = vec![0.0; m * m];
    let mut grad = vec![0.0; m];
    while iterations < config.max_iterations {
        fisher(&beta, &games, &mut info, n);
        for i in 0..m {
            let mut expected = 0.0;
            for j in 0..n {
                if j != i {
                    expected += games(i, j) * sigmoid(beta[i] - beta[j]);
                }
            }
            grad[i] = total_wins[i] - expected;
        }
        let step = cholesky_solve(&info, &grad, m)
            .ok_or_else(|| QualityError::InvalidConfig("Fisher information is singular".into()))?;
        iterations += 1;
        let mut t = 1.0;
        let mut next = beta.clone();
        loop {
            for i in 0..m {
                next[i] = beta[i] + t * step[i];
            }
            let nll = loglik(&next);
            if nll >= ll - 1e-12 * ll.abs() || t < 1e-8 {
                ll = nll;
                break;
            }
            t /= 2.0;
        }
        let moved = (0..m)
            .map(|i| (next[i] - beta[i]).abs())
            .fold(0.0, f64::max);
        beta = next;
        if moved < config.tolerance {
            converged = true;
            break;
        }
    }
    // Covariance with the last option fixed (zero row and column for it).
    fisher(&beta, &games, &mut info, n);
    let inv = cholesky_inverse(&info, m)
        .ok_or_else(|| QualityError::InvalidConfig("Fisher information is singular".into()))?;
    let cov = |i: usize, j: usize| {
        if i == m || j == m {
            0.0
        } else {
            inv[i * m + j]
        }
    };
    let (shift, var): (f64, Vec<f64>) = match config.normalization {
        Normalization::Reference(r) => {
            let r = r as usize;
            let var = (0..n)
                .map(|i| cov(i, i) - 2.0 * cov(i, r) + cov(r, r))
                .collect();
            (beta[r], var)
        }
        Normalization::MeanZero => {
            let row: Vec<f64> = (0..n).map(|i| (0..n).map(|j| cov(i, j)).sum()).collect();
            let all: f64 = row.iter().sum();
            let nf = n as f64;
            let var = (0..n)
                .map(|i| cov(i, i) - 2.0 * row[i] / nf + all / (nf * nf))
                .collect();
            (beta.iter().sum::<f64>() / nf, var)
        }
    };
    let options = (0..n)
        .map(|i| OptionStrength {
            option: i as u32,
            log_strength: beta[i] - shift,
            std_error: var[i].max(0.0).sqrt(),
            wins: total_wins[i],
            comparisons: (0..n).map(|j| games(i, j)).sum::<f64>().round() as u64,
        })
        .collect();
    let total_games: f64 = (0..n)
        .flat_map(|i| (0..n).map(move |j| (i, j)))
        .map(|(i, j)| wins[i][j])
        .sum();
    Ok(BradleyTerry {
        options,
        normalization: config.normalization,
        comparisons: total_games.round() as u64,
        log_likelihood: ll,
        iterations,
        converged,
    })
}

fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// ln(1 + e^x) without overflow.
fn softplus(x: f64) -> f64 {
    if x > 0.0 {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}

/// Fisher information of the first n−1 log-strengths (the last fixed), into `info` (m×m).
fn fisher(beta: &[f64], games: &impl Fn(usize, usize) -> f64, info: &mut [f64], n: usize) {
    let m = n - 1;
    info.iter_mut().for_each(|x| *x = 0.0);
    for i in 0..n {
        for j in i + 1..n {
            let g = games(i, j);
            if g == 0.0 {
                continue;
            }
            let p = sigmoid(beta[i] - beta[j]);
            let v = g * p * (1.0 - p);
            if i < m {
                info[i * m + i] += v;
            }
            if j < m {
                info[j * m + j] += v;
            }
            if i < m && j < m {
                info[i * m + j] -= v;
                info[j * m + i] -= v;
            }
        }
    }
}

/// Lower-triangular Cholesky factor of a symmetric positive-definite m×m matrix.
fn cholesky(a: &[f64], m: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; m * m];
    for i in 0..m {
        for j in 0..=i {
            let mut s = a[i * m + j];
            for p in 0..j {
                s -= l[i * m + p] * l[j * m + p];
            }
            if i == j {
                if s <= 0.0 {
                    return None;
                }
                l[i * m + i] = s.sqrt();
            } else {
                l[i * m + j] = s / l[j * m + j];
            }
        }
    }
    Some(l)
}

fn solve_with(l: &[f64], b: &[f64], m: usize) -> Vec<f64> {
    let mut y = b.to_vec();
    for i in 0..m {
        for p in 0..i {
            y[i] -= l[i * m + p] * y[p];
        }
        y[i] /= l[i * m + i];
    }
    for i in (0..m).rev() {
        for p in i + 1..m {
            y[i] -= l[p * m + i] * y[p];
        }
        y[i] /= l[i * m + i];
    }
    y
}

fn cholesky_solve(a: &[f64], b: &[f64], m: usize) -> Option<Vec<f64>> {
    cholesky(a, m).map(|l| solve_with(&l, b, m))
}

fn cholesky_inverse(a: &[f64], m: usize) -> Option<Vec<f64>> {
    let l = cholesky(a, m)?;
    let mut inv = vec![0.0; m * m];
    let mut e = vec![0.0; m];
    for c in 0..m {
        e.iter_mut().for_each(|x| *x = 0.0);
        e[c] = 1.0;
        let col = solve_with(&l, &e, m);
        for r in 0..m {
            inv[r * m + c] = col[r];
        }
    }
    Some(inv)
}

/// Refuses win matrices whose MLE is infinite: the beat graph must be strongly connected.
fn check_connected(wins: &[Vec<f64>]) -> Result<(), QualityError> {
    let n = wins.len();
    let reach = |forward: bool| -> Vec<bool> {
        let mut seen = vec![false; n];
        let mut stack = vec![0usize];
        seen[0] = true;
        while let Some(i) = stack.pop() {
            for j in 0..n {
                let edge = if forward {
                    wins[i][j] > 0.0
                } else {
                    wins[j][i] > 0.0
                };
                if edge && !seen[j] {
                    seen[j] = true;
                    stack.push(j);
                }
            }
        }
        seen
    };
    // Forward from option 0: options it beats, directly or through a chain.
    if let Some(j) = reach(true).iter().position(|s| !s) {
        return Err(QualityError::StrengthNotFinite {
            option: j as u32,
            beaten: false,
        });
    }
    if let Some(j) = reach(false).iter().position(|s| !s) {
        return Err(QualityError::StrengthNotFinite {
            option: j as u32,
            beaten: true,
        });
    }
    Ok(())
}
