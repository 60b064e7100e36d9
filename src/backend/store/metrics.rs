//! Metric points grouped into series (service, scope, name, attributes),
//! bounded by a total number of points with the oldest point evicted first.

use std::collections::{HashMap, VecDeque};

use opentelemetry_proto::tonic::{
    common::v1::KeyValue,
    metrics::v1::{
        ExponentialHistogramDataPoint, HistogramDataPoint, Metric, NumberDataPoint, metric::Data,
        number_data_point,
    },
};

use super::render::attributes;
use crate::backend::model::{MetricPoint, MetricQuery, MetricSeries};

#[derive(Debug, Default)]
pub(super) struct SeriesStore {
    cap: usize,
    series: HashMap<u64, Series>,
    by_key: HashMap<String, u64>,
    /// One series id per held point, oldest first: what to evict next.
    order: VecDeque<u64>,
    next_id: u64,
    evicted: u64,
}

#[derive(Debug)]
struct Series {
    key: String,
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
    pub(super) fn new(cap: usize) -> Self {
        Self {
            cap,
            ..Self::default()
        }
    }

    pub(super) fn points(&self) -> usize {
        self.order.len()
    }

    pub(super) fn evicted(&self) -> u64 {
        self.evicted
    }

    pub(super) fn push(&mut self, service: &str, scope: &str, metric: Metric) {
        let Some(data) = &metric.data else {
            return;
        };
        let kind = kind(data);
        for point in points(data) {
            let id = self.series_id(service, scope, &metric, kind, point.attributes);
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
        while self.order.len() > self.cap {
            self.evict_oldest_point();
        }
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

    fn series_id(
        &mut self,
        service: &str,
        scope: &str,
        metric: &Metric,
        kind: &str,
        labels: &[KeyValue],
    ) -> u64 {
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
            return *id;
        }
        let id = self.next_id;
        self.next_id += 1;
        self.by_key.insert(key.clone(), id);
        let meta = MetricSeries {
            name: metric.name.clone(),
            service: service.to_owned(),
            description: metric.description.clone(),
            unit: metric.unit.clone(),
            kind: kind.to_owned(),
            attributes,
            latest: 0.0,
            points: Vec::new(),
        };
        self.series.insert(
            id,
            Series {
                key,
                meta,
                points: VecDeque::new(),
            },
        );
        id
    }

    /// Points sit in their series oldest first, so the globally oldest point
    /// of a series is always its first.
    fn evict_oldest_point(&mut self) {
        let Some(id) = self.order.pop_front() else {
            return;
        };
        self.evicted += 1;
        let Some(series) = self.series.get_mut(&id) else {
            return;
        };
        series.points.pop_front();
        if series.points.is_empty() {
            let key = std::mem::take(&mut series.key);
            self.series.remove(&id);
            self.by_key.remove(&key);
        }
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
