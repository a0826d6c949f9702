//! Drift by week and by rubric version.

use plumbline_quality::bias::{PairwiseJudgment, Winner};
use plumbline_quality::drift::{
    Baseline, DriftConfig, MONDAY_EPOCH, WEEK, drift_by_version, drift_by_window,
};
use plumbline_quality::{Estimate, Undefined};

/// Share of judgments won by the left option: a stand-in for any scalar measure.
fn left_share(group: &[&PairwiseJudgment]) -> Estimate {
    if group.is_empty() {
        return Estimate::Undefined(Undefined::NoData);
    }
    let n = group.iter().filter(|j| j.winner == Winner::Left).count();
    Estimate::Value(n as f64 / group.len() as f64)
}

fn at(time: i64, winner: Winner, version: u32) -> PairwiseJudgment {
    PairwiseJudgment {
        time: Some(time),
        rubric_version: Some(version),
        winner,
        ..Default::default()
    }
}

fn series() -> Vec<PairwiseJudgment> {
    // 2024-01-01 was a Monday: 1704067200.
    let monday = 1_704_067_200;
    let mut js = Vec::new();
    for week in 0..4i64 {
        for k in 0..10i64 {
            // Weeks 0-2: half left. Week 3: nine in ten left (drift), under rubric version 2.
            let left = if week == 3 { k < 9 } else { k % 2 == 0 };
            let w = if left { Winner::Left } else { Winner::Right };
            js.push(at(
                monday + week * WEEK + k * 3600,
                w,
                if week == 3 { 2 } else { 1 },
            ));
        }
    }
    js.push(PairwiseJudgment {
        time: None,
        ..Default::default()
    });
    js
}

#[test]
fn weekly_windows_start_on_monday_and_flag_the_drifting_week() {
    let js = series();
    let r = drift_by_window(&js, |j| j.time, &left_share, &DriftConfig::default()).unwrap();
    assert_eq!(r.points.len(), 4);
    assert_eq!(r.skipped, 1);
    assert_eq!(r.points[0].key, 1_704_067_200);
    assert_eq!((r.points[0].key - MONDAY_EPOCH) % WEEK, 0);
    assert!(r.points[0].baseline.value().is_none() && !r.points[0].flagged);
    assert!(!r.points[1].flagged && !r.points[2].flagged);
    assert!(r.points[3].flagged);
    assert!((r.points[3].departure.unwrap() - 0.4).abs() < 1e-12);
    assert!((r.points[3].baseline.value().unwrap() - 0.5).abs() < 1e-12);
}

#[test]
fn threshold_and_min_records_gate_the_flag() {
    let js = series();
    let loose = DriftConfig {
        threshold: 0.5,
        ..DriftConfig::default()
    };
    let r = drift_by_window(&js, |j| j.time, &left_share, &loose).unwrap();
    assert!(r.points.iter().all(|p| !p.flagged));
    let strict = DriftConfig {
        min_records: 11,
        ..DriftConfig::default()
    };
    let r = drift_by_window(&js, |j| j.time, &left_share, &strict).unwrap();
    assert!(r.points.iter().all(|p| !p.flagged));
    let day = DriftConfig {
        window_seconds: 24 * 3600,
        ..DriftConfig::default()
    };
    let r = drift_by_window(&js, |j| j.time, &left_share, &day).unwrap();
    assert_eq!(
        r.points.len(),
        4,
        "each week's judgments fall within one day"
    );
    let bad = DriftConfig {
        window_seconds: 0,
        ..DriftConfig::default()
    };
    assert!(drift_by_window(&js, |j| j.time, &left_share, &bad).is_err());
}

#[test]
fn by_rubric_version_and_both_baselines() {
    let js = series();
    for baseline in [Baseline::Pooled, Baseline::WeightedMean] {
        let cfg = DriftConfig {
            baseline,
            ..DriftConfig::default()
        };
        let r = drift_by_version(&js, |j| j.rubric_version, &left_share, &cfg).unwrap();
        assert_eq!(
            r.points.iter().map(|p| p.key).collect::<Vec<_>>(),
            vec![1, 2]
        );
        assert_eq!(r.points[0].records, 30);
        assert!(r.points[1].flagged);
        // For a share, the record-weighted mean of earlier values is the pooled share.
        assert!((r.points[1].baseline.value().unwrap() - 0.5).abs() < 1e-12);
    }
}
