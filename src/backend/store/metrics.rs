//! Metric points grouped into series (service, scope, name, attributes),
//! with the oldest point evicted first (the store decides when).

use std::{
    collections::{HashMap, VecDeque},
    mem::size_of,
    sync::Arc,
};

use opentelemetry_proto::tonic::{
    common::v1::{InstrumentationScope, KeyValue},
    metrics::v1::{
        AggregationTemporality, Exemplar as ProtoExemplar, Metric, NumberDataPoint, exemplar,
        metric::Data, number_data_point,
    },
};

use super::{
    histogram::Distribution,
    render::{attributes, hex},
};
use crate::backend::{
    limits::MAX_EXEMPLARS,
    model::{Attribute, Exemplar, HistogramStats, MetricPoint, MetricQuery, MetricSeries},
};

#[derive(Debug, Default)]
pub(super) struct SeriesStore {
    series: HashMap<u64, Series>,
    by_key: HashMap<String, u64>,
    /// One series id per held point, oldest first: what to evict next.
    order: VecDeque<u64>,
    next_id: u64,
    evicted: u64,
    /// What the series and their points take, as the store counts bytes.
    bytes: usize,
}

/// What [`SeriesStore::evict_oldest_point`] took out.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Evicted {
    Nothing,
    Point,
    /// The series' last point, and with it the series of this service.
    Series(Arc<str>),
}

/// A held point without its buckets and exemplars: the point itself, its
/// time as text and its place in `order`.
const POINT_BYTES: usize = size_of::<MetricPoint>() + 20 + size_of::<u64>();

/// What a held point takes, as the store counts bytes.
fn point_bytes(point: &MetricPoint) -> usize {
    let buckets = point.buckets.as_ref().map_or(0, |b| {
        size_of::<f64>() * b.bounds.len() + size_of::<u64>() * b.counts.len()
    });
    let exemplars = point
        .exemplars
        .iter()
        .map(|e| size_of::<Exemplar>() + 20 + e.trace_id.len() + e.span_id.len())
        .sum::<usize>();
    POINT_BYTES + buckets + exemplars
}

#[derive(Debug)]
struct Series {
    key: String,
    service: Arc<str>,
    /// What the series takes without its points.
    bytes: usize,
    /// Everything but the points, which live in `points` (a queue: evicting
    /// from the front of a `Vec` would cost a shift per point).
    meta: MetricSeries,
    points: VecDeque<MetricPoint>,
}

/// One data point, whatever the metric's kind.
struct Point<'a> {
    attributes: &'a [KeyValue],
    time_unix_nano: u64,
    value: f64,
    count: Option<u64>,
    distribution: Option<Distribution>,
    exemplars: &'a [ProtoExemplar],
}

impl<'a> Point<'a> {
    fn number(p: &'a NumberDataPoint) -> Self {
        let value = match p.value {
            Some(number_data_point::Value::AsDouble(d)) => d,
            Some(number_data_point::Value::AsInt(i)) => i as f64,
            None => 0.0,
        };
        Self {
            attributes: &p.attributes,
            time_unix_nano: p.time_unix_nano,
            value,
            count: None,
            distribution: None,
            exemplars: &p.exemplars,
        }
    }

    fn held(self) -> MetricPoint {
        let exemplars = self.exemplars.iter().take(MAX_EXEMPLARS).map(exemplar);
        MetricPoint {
            time_unix_nano: self.time_unix_nano.to_string(),
            value: self.value,
            count: self.count,
            histogram: self.distribution.as_ref().map(Distribution::stats),
            buckets: self.distribution.map(|d| d.buckets),
            exemplars: exemplars.collect(),
        }
    }
}

fn exemplar(e: &ProtoExemplar) -> Exemplar {
    let value = match e.value {
        Some(exemplar::Value::AsDouble(d)) => d,
        Some(exemplar::Value::AsInt(i)) => i as f64,
        None => 0.0,
    };
    Exemplar {
        time_unix_nano: e.time_unix_nano.to_string(),
        value,
        // Ids of any other length are not ids the dashboard could link to.
        trace_id: if e.trace_id.len() == 16 {
            hex(&e.trace_id)
        } else {
            String::new()
        },
        span_id: if e.span_id.len() == 8 {
            hex(&e.span_id)
        } else {
            String::new()
        },
    }
}

impl SeriesStore {
    pub(super) fn points(&self) -> usize {
        self.order.len()
    }

    pub(super) fn evicted(&self) -> u64 {
        self.evicted
    }

    pub(super) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Adds the metric's points; returns how many series that created.
    pub(super) fn push(
        &mut self,
        service: &Arc<str>,
        scope: &InstrumentationScope,
        metric: Metric,
    ) -> usize {
        let Some(data) = &metric.data else {
            return 0;
        };
        let kind = Kind::of(data);
        let mut created = 0;
        for point in points(data) {
            let (id, new) = self.series_id(service, scope, &metric, kind, point.attributes);
            created += usize::from(new);
            let point = point.held();
            self.bytes += point_bytes(&point);
            let series = self.series.get_mut(&id).expect("series_id created it");
            series.meta.latest = point.value;
            series.points.push_back(point);
            self.order.push_back(id);
        }
        created
    }

    pub(super) fn query(&self, query: &MetricQuery) -> Vec<MetricSeries> {
        let needle = query.q.as_deref().map(str::to_lowercase);
        let mut found: Vec<MetricSeries> = self
            .series
            .values()
            .filter(|s| {
                query
                    .service
                    .as_deref()
                    .is_none_or(|service| s.meta.service == service)
            })
            .filter(|s| {
                needle
                    .as_deref()
                    .is_none_or(|n| s.meta.name.to_lowercase().contains(n))
            })
            .map(|s| MetricSeries {
                points: {
                    let newest = query.points.unwrap_or(usize::MAX).min(s.points.len());
                    s.points.range(s.points.len() - newest..).cloned().collect()
                },
                histogram: s.histogram(),
                ..s.meta.clone()
            })
            .collect();
        // Attributes break ties, so one metric's series keep their order.
        found.sort_by(|a, b| {
            let attributes = |s: &MetricSeries| -> Vec<(String, String)> {
                s.attributes
                    .iter()
                    .map(|a| (a.key.clone(), a.value.clone()))
                    .collect()
            };
            (&a.name, &a.service, attributes(a)).cmp(&(&b.name, &b.service, attributes(b)))
        });
        found
    }

    /// The series' id, and whether it is new.
    fn series_id(
        &mut self,
        service: &Arc<str>,
        scope: &InstrumentationScope,
        metric: &Metric,
        kind: Kind,
        labels: &[KeyValue],
    ) -> (u64, bool) {
        let attributes = attributes(labels);
        let rendered: Vec<String> = attributes
            .iter()
            .map(|a| format!("{}={}", a.key, a.value))
            .collect();
        let key = format!(
            "{service}\u{0}{}\u{0}{}\u{0}{}",
            scope.name,
            metric.name,
            rendered.join("\u{0}")
        );
        if let Some(id) = self.by_key.get(&key) {
            return (*id, false);
        }
        let id = self.next_id;
        self.next_id += 1;
        self.by_key.insert(key.clone(), id);
        let meta = MetricSeries {
            name: metric.name.clone(),
            service: service.to_string(),
            description: metric.description.clone(),
            unit: metric.unit.clone(),
            kind: kind.name.to_owned(),
            attributes,
            latest: 0.0,
            points: Vec::new(),
            scope: scope.name.clone(),
            scope_version: scope.version.clone(),
            temporality: kind.temporality.to_owned(),
            histogram: None,
        };
        // The key twice (here and in `by_key`), the texts and attributes.
        let bytes = size_of::<Series>()
            + 2 * key.len()
            + meta.name.len()
            + meta.service.len()
            + meta.description.len()
            + meta.unit.len()
            + meta.scope.len()
            + meta.scope_version.len()
            + meta
                .attributes
                .iter()
                .map(|a| size_of::<Attribute>() + a.key.len() + a.value.len())
                .sum::<usize>();
        self.bytes += bytes;
        let series = Series {
            key,
            service: service.clone(),
            bytes,
            meta,
            points: VecDeque::new(),
        };
        self.series.insert(id, series);
        (id, true)
    }

    /// Takes out every series (or those of `service`); returns the service
    /// of each series taken out.
    pub(super) fn clear(&mut self, service: Option<&str>) -> Vec<Arc<str>> {
        let ids: Vec<u64> = self
            .series
            .iter()
            .filter(|(_, s)| service.is_none_or(|name| &*s.service == name))
            .map(|(id, _)| *id)
            .collect();
        let mut released = Vec::with_capacity(ids.len());
        for id in ids {
            let Some(series) = self.series.remove(&id) else {
                continue;
            };
            self.by_key.remove(&series.key);
            self.bytes -= series.bytes + series.points.iter().map(point_bytes).sum::<usize>();
            released.push(series.service);
        }
        let held = &self.series;
        self.order.retain(|id| held.contains_key(id));
        released
    }

    /// Points sit in their series oldest first, so the globally oldest point
    /// of a series is always its first.
    pub(super) fn evict_oldest_point(&mut self) -> Evicted {
        let Some(id) = self.order.pop_front() else {
            return Evicted::Nothing;
        };
        self.evicted += 1;
        let Some(series) = self.series.get_mut(&id) else {
            return Evicted::Point;
        };
        if let Some(point) = series.points.pop_front() {
            self.bytes -= point_bytes(&point);
        }
        if !series.points.is_empty() {
            return Evicted::Point;
        }
        let key = std::mem::take(&mut series.key);
        self.by_key.remove(&key);
        let series = self.series.remove(&id).expect("looked up above");
        self.bytes -= series.bytes;
        Evicted::Series(series.service)
    }
}

impl Series {
    /// The series' distribution: the newest point's when each point counts
    /// from the start, the held points merged when each counts a delta.
    fn histogram(&self) -> Option<HistogramStats> {
        let newest = self.points.back()?;
        if self.meta.temporality != "delta" {
            return newest.histogram;
        }
        let distribution = |p: &MetricPoint| {
            Some(Distribution {
                buckets: p.buckets.clone()?,
                count: p.count.unwrap_or_default(),
                sum: p.value,
                min: None,
                max: None,
            })
        };
        let mut merged = distribution(newest)?;
        let older = self.points.iter().rev().skip(1);
        for point in older.filter_map(distribution) {
            if !merged.merge(&point) {
                break;
            }
        }
        Some(merged.stats())
    }
}

/// A metric's kind and, for sums and histograms, its temporality.
#[derive(Debug, Clone, Copy)]
struct Kind {
    name: &'static str,
    temporality: &'static str,
}

impl Kind {
    fn of(data: &Data) -> Self {
        let (name, temporality) = match data {
            Data::Gauge(_) => ("gauge", None),
            Data::Sum(s) => ("sum", Some(s.aggregation_temporality)),
            Data::Histogram(h) => ("histogram", Some(h.aggregation_temporality)),
            Data::ExponentialHistogram(h) => {
                ("exponential_histogram", Some(h.aggregation_temporality))
            }
            Data::Summary(_) => ("summary", None),
        };
        let temporality = match temporality.map(AggregationTemporality::try_from) {
            Some(Ok(AggregationTemporality::Cumulative)) => "cumulative",
            Some(Ok(AggregationTemporality::Delta)) => "delta",
            _ => "",
        };
        Self { name, temporality }
    }
}

fn points(data: &Data) -> Vec<Point<'_>> {
    // Sums and gauges carry a number; distributions their sum and count.
    match data {
        Data::Gauge(g) => g.data_points.iter().map(Point::number).collect(),
        Data::Sum(s) => s.data_points.iter().map(Point::number).collect(),
        Data::Histogram(h) => h
            .data_points
            .iter()
            .map(|p| Point {
                attributes: &p.attributes,
                time_unix_nano: p.time_unix_nano,
                value: p.sum.unwrap_or_default(),
                count: Some(p.count),
                distribution: Distribution::explicit(p),
                exemplars: &p.exemplars,
            })
            .collect(),
        Data::ExponentialHistogram(h) => h
            .data_points
            .iter()
            .map(|p| Point {
                attributes: &p.attributes,
                time_unix_nano: p.time_unix_nano,
                value: p.sum.unwrap_or_default(),
                count: Some(p.count),
                distribution: Distribution::exponential(p),
                exemplars: &p.exemplars,
            })
            .collect(),
        Data::Summary(s) => s
            .data_points
            .iter()
            .map(|p| Point {
                attributes: &p.attributes,
                time_unix_nano: p.time_unix_nano,
                value: p.sum,
                count: Some(p.count),
                distribution: None,
                exemplars: &[],
            })
            .collect(),
    }
}
