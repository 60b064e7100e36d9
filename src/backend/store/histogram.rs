//! Histogram points as explicit buckets, and the count, average and
//! percentiles read from them.
//!
//! A percentile is estimated the usual way (as Prometheus'
//! `histogram_quantile` does): find the bucket holding the rank, then
//! interpolate linearly between its bounds. An open-ended bucket is closed by
//! the point's `min` or `max` when the SDK sent them, else by its finite
//! bound (the lowest bucket starts at 0 when its upper bound is positive).

use opentelemetry_proto::tonic::metrics::v1::{
    ExponentialHistogramDataPoint, HistogramDataPoint, exponential_histogram_data_point,
};

use crate::backend::{
    limits::MAX_HISTOGRAM_BUCKETS,
    model::{Buckets, HistogramStats},
};

/// What a histogram point holds: its buckets and the extremes it saw.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Distribution {
    pub(super) buckets: Buckets,
    pub(super) count: u64,
    pub(super) sum: f64,
    pub(super) min: Option<f64>,
    pub(super) max: Option<f64>,
}

impl Distribution {
    /// `None` when the point has more buckets than the store keeps.
    pub(super) fn explicit(point: &HistogramDataPoint) -> Option<Self> {
        let bounds = &point.explicit_bounds;
        if bounds.len() > MAX_HISTOGRAM_BUCKETS || point.bucket_counts.len() != bounds.len() + 1 {
            return None;
        }
        Some(Self {
            buckets: Buckets {
                bounds: bounds.clone(),
                counts: point.bucket_counts.clone(),
            },
            count: point.count,
            sum: point.sum.unwrap_or_default(),
            min: point.min,
            max: point.max,
        })
    }

    /// The exponential buckets (negative, zero, positive) laid end to end as
    /// explicit bounds, with empty buckets over the gaps between them.
    pub(super) fn exponential(point: &ExponentialHistogramDataPoint) -> Option<Self> {
        let empty = exponential_histogram_data_point::Buckets::default();
        let negative = point.negative.as_ref().unwrap_or(&empty);
        let positive = point.positive.as_ref().unwrap_or(&empty);
        if negative.bucket_counts.len() + positive.bucket_counts.len() > MAX_HISTOGRAM_BUCKETS
            || !(-10..=20).contains(&point.scale)
        {
            return None;
        }
        // Bucket `i` holds magnitudes in (base^i, base^(i+1)], base = 2^(2^-scale).
        let power = |i: i64| (i as f64 * (-f64::from(point.scale)).exp2()).exp2();
        let mut ranges: Vec<(f64, f64, u64)> = Vec::new();
        let offset = i64::from(negative.offset);
        for (k, &count) in negative.bucket_counts.iter().enumerate().rev() {
            let i = offset + k as i64;
            ranges.push((-power(i + 1), -power(i), count));
        }
        if point.zero_count > 0 {
            let zero = point.zero_threshold.abs();
            ranges.push((-zero, zero, point.zero_count));
        }
        let offset = i64::from(positive.offset);
        for (k, &count) in positive.bucket_counts.iter().enumerate() {
            let i = offset + k as i64;
            ranges.push((power(i), power(i + 1), count));
        }
        Some(Self {
            buckets: laid_end_to_end(&ranges),
            count: point.count,
            sum: point.sum.unwrap_or_default(),
            min: point.min,
            max: point.max,
        })
    }

    /// Adds `other` (a later delta point) when both have the same bounds.
    pub(super) fn merge(&mut self, other: &Self) -> bool {
        if self.buckets.bounds != other.buckets.bounds {
            return false;
        }
        for (count, more) in self.buckets.counts.iter_mut().zip(&other.buckets.counts) {
            *count += more;
        }
        self.count += other.count;
        self.sum += other.sum;
        let pick = |a: Option<f64>, b: Option<f64>, f: fn(f64, f64) -> f64| match (a, b) {
            (Some(a), Some(b)) => Some(f(a, b)),
            _ => None,
        };
        self.min = pick(self.min, other.min, f64::min);
        self.max = pick(self.max, other.max, f64::max);
        true
    }

    pub(super) fn stats(&self) -> HistogramStats {
        let avg = if self.count == 0 {
            0.0
        } else {
            self.sum / self.count as f64
        };
        HistogramStats {
            count: self.count,
            sum: self.sum,
            avg,
            p50: self.percentile(0.50),
            p90: self.percentile(0.90),
            p99: self.percentile(0.99),
        }
    }

    /// The value below which a fraction `q` of the observations fall.
    fn percentile(&self, q: f64) -> f64 {
        let counts = &self.buckets.counts;
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return 0.0;
        }
        let rank = q * total as f64;
        let mut before = 0;
        for (i, &count) in counts.iter().enumerate() {
            if count == 0 {
                continue;
            }
            if (before + count) as f64 >= rank {
                let (lower, upper) = self.bucket_bounds(i);
                let fraction = (rank - before as f64) / count as f64;
                return lower + fraction * (upper - lower);
            }
            before += count;
        }
        self.bucket_bounds(counts.len() - 1).1
    }

    /// Bucket `i`'s bounds, closed as the module's doc says.
    fn bucket_bounds(&self, i: usize) -> (f64, f64) {
        let bounds = &self.buckets.bounds;
        let upper = bounds.get(i).copied();
        let lower = match i.checked_sub(1).and_then(|below| bounds.get(below)) {
            Some(&lower) => lower,
            None => self.min.unwrap_or(match upper {
                Some(upper) if upper > 0.0 => 0.0,
                Some(upper) => upper,
                None => 0.0,
            }),
        };
        let upper = upper.unwrap_or_else(|| self.max.unwrap_or(lower));
        // The extremes narrow the bucket that holds them.
        let lower = self.min.map_or(lower, |min| lower.max(min));
        let upper = self.max.map_or(upper, |max| upper.min(max));
        (lower, upper.max(lower))
    }
}

/// `(lower, upper, count)` ranges, ascending, as explicit bounds: the first
/// range's lower bound opens the list (nothing below it), and a gap between
/// two ranges becomes an empty bucket.
fn laid_end_to_end(ranges: &[(f64, f64, u64)]) -> Buckets {
    let Some(&(first, _, _)) = ranges.first() else {
        return Buckets {
            bounds: Vec::new(),
            counts: vec![0],
        };
    };
    let mut buckets = Buckets {
        bounds: vec![first],
        counts: vec![0],
    };
    for &(lower, upper, count) in ranges {
        if lower > *buckets.bounds.last().unwrap_or(&lower) {
            buckets.bounds.push(lower);
            buckets.counts.push(0);
        }
        buckets.bounds.push(upper);
        buckets.counts.push(count);
    }
    buckets.counts.push(0);
    buckets
}

#[cfg(test)]
mod tests {
    use opentelemetry_proto::tonic::metrics::v1::exponential_histogram_data_point::Buckets as Exp;

    use super::*;

    /// The observations 1, 2, ..., 100 in the OpenTelemetry SDKs' default
    /// buckets.
    fn one_to_a_hundred() -> HistogramDataPoint {
        let bounds = [
            0.0, 5.0, 10.0, 25.0, 50.0, 75.0, 100.0, 250.0, 500.0, 750.0, 1000.0,
        ];
        let mut counts = vec![0; bounds.len() + 1];
        for value in 1..=100 {
            let at = bounds.partition_point(|&b| b < f64::from(value));
            counts[at] += 1;
        }
        HistogramDataPoint {
            count: 100,
            sum: Some(5050.0),
            explicit_bounds: bounds.to_vec(),
            bucket_counts: counts,
            min: Some(1.0),
            max: Some(100.0),
            ..HistogramDataPoint::default()
        }
    }

    #[test]
    fn percentiles_interpolate_within_the_bucket() {
        let stats = Distribution::explicit(&one_to_a_hundred()).unwrap().stats();
        assert_eq!((stats.count, stats.sum, stats.avg), (100, 5050.0, 50.5));
        // Evenly spread within each bucket, so interpolation is exact here.
        assert_eq!((stats.p50, stats.p90, stats.p99), (50.0, 90.0, 99.0));
    }

    #[test]
    fn open_buckets_are_closed_by_min_and_max_or_their_bound() {
        let point = |min, max| HistogramDataPoint {
            count: 10,
            sum: Some(10_000.0),
            explicit_bounds: vec![100.0],
            bucket_counts: vec![0, 10],
            min,
            max,
            ..HistogramDataPoint::default()
        };
        let with = Distribution::explicit(&point(Some(500.0), Some(1500.0))).unwrap();
        assert_eq!(with.stats().p50, 1000.0);
        let without = Distribution::explicit(&point(None, None)).unwrap();
        assert_eq!(without.stats().p99, 100.0);
        let low = HistogramDataPoint {
            count: 4,
            explicit_bounds: vec![8.0],
            bucket_counts: vec![4, 0],
            ..HistogramDataPoint::default()
        };
        assert_eq!(Distribution::explicit(&low).unwrap().stats().p50, 4.0);
    }

    #[test]
    fn exponential_buckets_become_explicit_bounds() {
        // Scale 0: base 2; buckets (1, 2], (2, 4], (4, 8] and a zero bucket.
        let point = ExponentialHistogramDataPoint {
            count: 7,
            sum: Some(20.0),
            scale: 0,
            zero_count: 1,
            positive: Some(Exp {
                offset: 0,
                bucket_counts: vec![2, 0, 4],
            }),
            ..ExponentialHistogramDataPoint::default()
        };
        let distribution = Distribution::exponential(&point).unwrap();
        assert_eq!(
            distribution.buckets,
            Buckets {
                bounds: vec![0.0, 0.0, 1.0, 2.0, 4.0, 8.0],
                counts: vec![0, 1, 0, 2, 0, 4, 0],
            }
        );
        let stats = distribution.stats();
        assert!((4.0..=8.0).contains(&stats.p90), "{stats:?}");
        assert!(
            (1.0..=2.0).contains(&stats.p50) || stats.p50 > 4.0,
            "{stats:?}"
        );
    }

    #[test]
    fn delta_points_merge_when_their_bounds_agree() {
        let mut first = Distribution::explicit(&one_to_a_hundred()).unwrap();
        let second = first.clone();
        assert!(first.merge(&second));
        assert_eq!(first.stats().count, 200);
        assert_eq!(first.stats().p50, 50.0);
        let other = HistogramDataPoint {
            explicit_bounds: vec![1.0],
            bucket_counts: vec![0, 0],
            ..HistogramDataPoint::default()
        };
        assert!(!first.merge(&Distribution::explicit(&other).unwrap()));
    }

    #[test]
    fn too_many_buckets_are_not_kept() {
        let point = HistogramDataPoint {
            explicit_bounds: vec![1.0; MAX_HISTOGRAM_BUCKETS + 1],
            bucket_counts: vec![0; MAX_HISTOGRAM_BUCKETS + 2],
            ..HistogramDataPoint::default()
        };
        assert_eq!(Distribution::explicit(&point), None);
    }
}
