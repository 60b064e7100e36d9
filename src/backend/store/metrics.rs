//! Metric points grouped into series (service, scope, name, attributes),
//! with the oldest point evicted first (the store decides when).

use std::{
    collections::{HashMap, VecDeque},
    mem::size_of,
    sync::Arc,
};

use opentelemetry_proto::tonic::{
    common::v1::KeyValue,
    metrics::v1::{
        ExponentialHistogramDataPoint, HistogramDataPoint, Metric, NumberDataPoint, metric::Data,
        number_data_point,
    },
};

use super::render::attributes;
use crate::backend::model::{Attribute, MetricPoint, MetricQuery, MetricSeries};

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

/// A held point: the point itself, its time as text and its place in `order`.
const POINT_BYTES: usize = size_of::<MetricPoint>() + 20 + size_of::<u64>();

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
}

impl<'a> Point<'a> {
    fn new(
        attributes: &'a [KeyValue],
        time_unix_nano: u64,
        value: f64,
        count: Option<u64>,
    ) -> Self {
        Self {
            attributes,
            time_unix_nano,
            value,
            count,
        }
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
    pub(super) fn push(&mut self, service: &Arc<str>, scope: &str, metric: Metric) -> usize {
        let Some(data) = &metric.data else {
            return 0;
        };
        let kind = kind(data);
        let mut created = 0;
        for point in points(data) {
            let (id, new) = self.series_id(service, scope, &metric, kind, point.attributes);
            created += usize::from(new);
            self.bytes += POINT_BYTES;
            let series = self.series.get_mut(&id).expect("series_id created it");
            series.meta.latest = point.value;
            let time_unix_nano = point.time_unix_nano.to_string();
            series.points.push_back(MetricPoint {
                time_unix_nano,
                value: point.value,
                count: point.count,
            });
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
                points: s.points.iter().cloned().collect(),
                ..s.meta.clone()
            })
            .collect();
        found.sort_by(|a, b| (&a.name, &a.service).cmp(&(&b.name, &b.service)));
        found
    }

    /// The series' id, and whether it is new.
    fn series_id(
        &mut self,
        service: &Arc<str>,
        scope: &str,
        metric: &Metric,
        kind: &str,
        labels: &[KeyValue],
    ) -> (u64, bool) {
        let attributes = attributes(labels);
        let rendered: Vec<String> = attributes
            .iter()
            .map(|a| format!("{}={}", a.key, a.value))
            .collect();
        let key = format!(
            "{service}\u{0}{scope}\u{0}{}\u{0}{}",
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
            kind: kind.to_owned(),
            attributes,
            latest: 0.0,
            points: Vec::new(),
        };
        // The key twice (here and in `by_key`), the texts and attributes.
        let bytes = size_of::<Series>()
            + 2 * key.len()
            + meta.name.len()
            + meta.service.len()
            + meta.description.len()
            + meta.unit.len()
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

    /// Points sit in their series oldest first, so the globally oldest point
    /// of a series is always its first.
    pub(super) fn evict_oldest_point(&mut self) -> Evicted {
        let Some(id) = self.order.pop_front() else {
            return Evicted::Nothing;
        };
        self.evicted += 1;
        self.bytes -= POINT_BYTES;
        let Some(series) = self.series.get_mut(&id) else {
            return Evicted::Point;
        };
        series.points.pop_front();
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

fn kind(data: &Data) -> &'static str {
    match data {
        Data::Gauge(_) => "gauge",
        Data::Sum(_) => "sum",
        Data::Histogram(_) => "histogram",
        Data::ExponentialHistogram(_) => "exponential_histogram",
        Data::Summary(_) => "summary",
    }
}

fn points(data: &Data) -> Vec<Point<'_>> {
    let number = |p: &NumberDataPoint| match p.value {
        Some(number_data_point::Value::AsDouble(d)) => d,
        Some(number_data_point::Value::AsInt(i)) => i as f64,
        None => 0.0,
    };
    // Sums and gauges carry a number; distributions their sum and count.
    match data {
        Data::Gauge(g) => g
            .data_points
            .iter()
            .map(|p| Point::new(&p.attributes, p.time_unix_nano, number(p), None))
            .collect(),
        Data::Sum(s) => s
            .data_points
            .iter()
            .map(|p| Point::new(&p.attributes, p.time_unix_nano, number(p), None))
            .collect(),
        Data::Histogram(h) => {
            let sum = |p: &HistogramDataPoint| p.sum.unwrap_or_default();
            h.data_points
                .iter()
                .map(|p| Point::new(&p.attributes, p.time_unix_nano, sum(p), Some(p.count)))
                .collect()
        }
        Data::ExponentialHistogram(h) => {
            let sum = |p: &ExponentialHistogramDataPoint| p.sum.unwrap_or_default();
            h.data_points
                .iter()
                .map(|p| Point::new(&p.attributes, p.time_unix_nano, sum(p), Some(p.count)))
                .collect()
        }
        Data::Summary(s) => s
            .data_points
            .iter()
            .map(|p| Point::new(&p.attributes, p.time_unix_nano, p.sum, Some(p.count)))
            .collect(),
    }
}
