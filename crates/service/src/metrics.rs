//! Prometheus metrics, rendered in the text exposition format with the prover-optimization
//! guide's names.
use super::tasks::TaskStatus;
use kernels::sync::lock;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// Distinct `circuit_id` labels kept; later ones are counted under `OTHER_LABEL`. Key
/// locations come from clients (a proof server's callers), so they must not grow the series.
pub const MAX_LABELS: usize = 100;
pub const OTHER_LABEL: &str = "other";
/// Longest label kept, in bytes; a longer key location is cut (at a character boundary).
pub const MAX_LABEL_BYTES: usize = 128;

fn truncated(label: &str) -> &str {
    let mut end = label.len().min(MAX_LABEL_BYTES);
    while !label.is_char_boundary(end) {
        end -= 1;
    }
    &label[..end]
}

/// Proof duration buckets (seconds): the guide's 1, 5, 10, 15, 30, 60 and finer ones below 1 s,
/// where small circuits land.
pub const DURATION_BUCKETS: [f64; 10] = [0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 10.0, 15.0, 30.0, 60.0];

#[derive(Default, Clone)]
struct CircuitSeries {
    buckets: [u64; DURATION_BUCKETS.len()],
    count: u64,
    sum: f64,
    succeeded: u64,
    failed: u64,
}

#[derive(Default)]
pub struct Metrics {
    by_circuit: Mutex<BTreeMap<String, CircuitSeries>>,
}

/// Point-in-time values that live elsewhere (scheduler, allocator, key store).
pub struct Gauges {
    pub memory_bytes: u64,
    pub memory_limit_bytes: Option<u64>,
    pub queue_depth: usize,
    pub active_proofs: usize,
    pub key_load_seconds: Vec<(String, f64)>,
    pub loaded_circuits: usize,
    pub circuits_evicted: u64,
    pub tasks: TaskStatus,
    pub msm_table_bytes: u64,
    /// Mapped prover keys, faulted pages and refused key maps (`prover::MappingStatus`).
    pub mapped_key_bytes: u64,
    pub mapping_faults: u64,
    pub key_maps_refused: u64,
}

impl Metrics {
    /// Records a finished proof; failed proofs count in `proofs_generated_total` only.
    pub fn record_proof(&self, circuit_id: &str, seconds: f64, ok: bool) {
        let mut all = lock(&self.by_circuit);
        let circuit_id = truncated(circuit_id);
        let label = if all.contains_key(circuit_id) || all.len() < MAX_LABELS { circuit_id } else { OTHER_LABEL };
        let series = all.entry(label.to_owned()).or_default();
        if ok {
            series.succeeded += 1;
            series.count += 1;
            series.sum += seconds;
            for (bucket, le) in series.buckets.iter_mut().zip(DURATION_BUCKETS) {
                *bucket += u64::from(seconds <= le);
            }
        } else {
            series.failed += 1;
        }
    }

    pub fn render(&self, gauges: &Gauges) -> String {
        let all = lock(&self.by_circuit).clone();
        let mut out = String::new();
        header(&mut out, "proof_generation_duration_seconds", "histogram", "Time to generate a proof, from start of work to verified proof");
        for (id, s) in &all {
            let id = escape(id);
            for (count, le) in s.buckets.iter().zip(DURATION_BUCKETS) {
                let _ = writeln!(out, "proof_generation_duration_seconds_bucket{{circuit_id=\"{id}\",le=\"{le}\"}} {count}");
            }
            let _ = writeln!(out, "proof_generation_duration_seconds_bucket{{circuit_id=\"{id}\",le=\"+Inf\"}} {}", s.count);
            let _ = writeln!(out, "proof_generation_duration_seconds_sum{{circuit_id=\"{id}\"}} {}", s.sum);
            let _ = writeln!(out, "proof_generation_duration_seconds_count{{circuit_id=\"{id}\"}} {}", s.count);
        }
        header(&mut out, "proofs_generated_total", "counter", "Proofs finished, by circuit and outcome");
        for (id, s) in &all {
            let id = escape(id);
            let _ = writeln!(out, "proofs_generated_total{{circuit_id=\"{id}\",status=\"success\"}} {}", s.succeeded);
            let _ = writeln!(out, "proofs_generated_total{{circuit_id=\"{id}\",status=\"failure\"}} {}", s.failed);
        }
        gauge(&mut out, "prover_memory_usage_bytes", "Native memory held by the prover: keys, parameters, proofs in flight", gauges.memory_bytes as f64);
        if let Some(limit) = gauges.memory_limit_bytes {
            gauge(&mut out, "prover_memory_limit_bytes", "The configured native memory budget", limit as f64);
        }
        gauge(&mut out, "prover_queue_depth", "Proofs waiting for their turn", gauges.queue_depth as f64);
        gauge(&mut out, "prover_active_proofs", "Proofs running now", gauges.active_proofs as f64);
        gauge(&mut out, "prover_loaded_circuits", "Circuits loaded now (bounded by the memory limit and a count)", gauges.loaded_circuits as f64);
        header(&mut out, "prover_circuit_evictions_total", "counter", "Idle loaded circuits evicted to make room");
        let _ = writeln!(out, "prover_circuit_evictions_total {}", gauges.circuits_evicted);
        gauge(&mut out, "prover_task_threads", "Threads running checks, verifies, preloads and keygen now", gauges.tasks.threads as f64);
        gauge(&mut out, "prover_task_queue_depth", "Checks, verifies, preloads and keygen waiting for a thread", gauges.tasks.queued as f64);
        gauge(
            &mut out,
            "prover_msm_table_bytes",
            "Affine SRS tables of the MSM engine (process-wide, counted with the parameters)",
            gauges.msm_table_bytes as f64,
        );
        gauge(
            &mut out,
            "prover_mapped_key_bytes",
            "Prover keys mapped from the key cache, shared through the page cache (counted in full in the budget)",
            gauges.mapped_key_bytes as f64,
        );
        header(&mut out, "prover_mapping_faults_total", "counter", "Pages of mapped keys or tables lost because their file shrank under the process");
        let _ = writeln!(out, "prover_mapping_faults_total {}", gauges.mapping_faults);
        header(&mut out, "prover_key_maps_refused_total", "counter", "Key map files in the key cache that did not check out and were rebuilt");
        let _ = writeln!(out, "prover_key_maps_refused_total {}", gauges.key_maps_refused);
        header(&mut out, "prover_key_load_seconds", "gauge", "Time it took to read and deserialize each loaded circuit");
        for (id, seconds) in &gauges.key_load_seconds {
            let _ = writeln!(out, "prover_key_load_seconds{{circuit_id=\"{}\"}} {seconds}", escape(truncated(id)));
        }
        out
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn gauge(out: &mut String, name: &str, help: &str, value: f64) {
    header(out, name, "gauge", help);
    let _ = writeln!(out, "{name} {value}");
}

/// Label values escape backslash, double quote and newline (exposition format).
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gauges() -> Gauges {
        Gauges {
            memory_bytes: 10,
            memory_limit_bytes: Some(20),
            queue_depth: 1,
            active_proofs: 2,
            key_load_seconds: vec![("a".into(), 0.5)],
            loaded_circuits: 1,
            circuits_evicted: 3,
            tasks: TaskStatus { threads: 1, max_threads: 2, queued: 0, max_queued: 8 },
            msm_table_bytes: 3 << 20,
            mapped_key_bytes: 5 << 20,
            mapping_faults: 0,
            key_maps_refused: 1,
        }
    }

    #[test]
    fn client_supplied_labels_are_capped() {
        let m = Metrics::default();
        for i in 0..MAX_LABELS + 50 {
            m.record_proof(&format!("location-{i}"), 0.1, true);
        }
        m.record_proof("location-0", 0.1, true);
        m.record_proof(&"é".repeat(1000), 0.1, true);
        let text = m.render(&gauges());
        assert!(text.lines().all(|l| l.len() < 2 * MAX_LABEL_BYTES), "labels are cut short");
        let labels: std::collections::BTreeSet<&str> =
            text.lines().filter_map(|l| l.strip_prefix("proofs_generated_total{circuit_id=\"")?.split('"').next()).collect();
        assert_eq!(labels.len(), MAX_LABELS + 1, "the cap plus {OTHER_LABEL:?}");
        assert!(text.contains("proofs_generated_total{circuit_id=\"other\",status=\"success\"} 51"));
        assert!(text.contains("proofs_generated_total{circuit_id=\"location-0\",status=\"success\"} 2"), "a kept label still counts");
        assert!(text.contains("prover_circuit_evictions_total 3") && text.contains("prover_loaded_circuits 1"));
    }

    #[test]
    fn histogram_buckets_are_cumulative_and_failures_only_count() {
        let m = Metrics::default();
        m.record_proof("a", 0.2, true);
        m.record_proof("a", 7.0, true);
        m.record_proof("a", 1.0, false);
        let text = m.render(&gauges());
        for line in [
            "proof_generation_duration_seconds_bucket{circuit_id=\"a\",le=\"0.1\"} 0",
            "proof_generation_duration_seconds_bucket{circuit_id=\"a\",le=\"0.25\"} 1",
            "proof_generation_duration_seconds_bucket{circuit_id=\"a\",le=\"10\"} 2",
            "proof_generation_duration_seconds_bucket{circuit_id=\"a\",le=\"+Inf\"} 2",
            "proof_generation_duration_seconds_count{circuit_id=\"a\"} 2",
            "proofs_generated_total{circuit_id=\"a\",status=\"failure\"} 1",
            "prover_memory_limit_bytes 20",
            "prover_key_load_seconds{circuit_id=\"a\"} 0.5",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line}\n{text}");
        }
    }

    #[test]
    fn label_values_are_escaped() {
        let m = Metrics::default();
        m.record_proof("we\"ird\\id\n", 0.1, true);
        assert!(m.render(&gauges()).contains(r#"circuit_id="we\"ird\\id\n""#));
    }
}
