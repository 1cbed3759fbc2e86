//! The "Rust floor" for `npm run bench`: how fast midnight-zkir proves a circuit when nothing but
//! the prove call is timed. Keys, IR and parameters are loaded (and the parameters downsized)
//! before the loop, exactly as the addon holds them once a circuit is preloaded, and the proof
//! runs inside a rayon pool of the addon's size, so the addon's overhead is what remains.
//!
//! Usage: floor <compact-dir> <circuit-id> <preimage-file> <iterations> <threads> [<params-dir>]
//! `<params-dir>` holds `bls_midnight_2p{k}` for k > 14; development parameters are taken there,
//! as the addon takes them with `allowUnpinnedParams`, so both prove with the same setup.
//! It also times Midnight's own decode of the prover key (transient-crypto's `ProverKey` read and
//! `init`, midnight-proofs' FFTs: no engine of ours is installed here), in the same pool: the
//! figure the addon's load is held to.
//! Prints one JSON line: {"circuit","k","threads","decodeMs","warmupMs","iterationsMs":[...],"peakProofBytes"}.
use midnight_zkir::IrSource;
use proving::circuit::{Circuit, CircuitFiles};
use proving::memory::ProofWindow;
use proving::params::{ParamsSources, ParamsStore, ReadyParams};
use proving::witness::Witness;
use rand::rngs::OsRng;
use std::path::PathBuf;
use std::time::Instant;
use transient_crypto::proofs::{ProofPreimage, ProverKey, Zkir};

struct Args {
    dir: PathBuf,
    id: String,
    preimage: PathBuf,
    iterations: usize,
    threads: usize,
    params_dir: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let (required, params_dir) = match argv.as_slice() {
        [required @ .., params_dir] if argv.len() == 6 => (required, Some(PathBuf::from(params_dir))),
        required => (required, None),
    };
    let [dir, id, preimage, iterations, threads] = required else {
        return Err("usage: floor <compact-dir> <circuit-id> <preimage-file> <iterations> <threads> [<params-dir>]".into());
    };
    let count = |what: &str, v: &str| match v.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("{what} must be a positive integer, got {v:?}")),
    };
    Ok(Args {
        dir: dir.into(),
        id: id.clone(),
        preimage: preimage.into(),
        iterations: count("iterations", iterations)?,
        threads: count("threads", threads)?,
        params_dir,
    })
}

/// Midnight's own decode of the prover key file, timed in ms.
fn decode_once(files: &CircuitFiles) -> Result<f64, String> {
    let bytes = std::fs::read(&files.prover).map_err(|e| format!("{}: {e}", files.prover.display()))?;
    let started = Instant::now();
    let key: ProverKey<IrSource> = serialize::tagged_deserialize(&mut &bytes[..]).map_err(|e| format!("decoding the prover key: {e}"))?;
    key.init().map_err(|e| format!("initializing the prover key: {e}"))?;
    Ok(started.elapsed().as_secs_f64() * 1e3)
}

/// One proof: nothing but midnight-zkir's own prove call, timed in ms, and the most heap it held
/// above what was live before it (the addon's `peakProofBytes` is measured the same way: this
/// binary links the addon's counting allocator).
fn prove_once(circuit: &Circuit, params: &ParamsStore, preimage: &ProofPreimage) -> Result<(f64, u64), String> {
    let window = ProofWindow::open();
    let started = Instant::now();
    futures_executor::block_on(circuit.ir.prove(OsRng, &ReadyParams(params), circuit.prover_key.clone(), preimage))
        .map_err(|e| format!("proving {}: {e}", circuit.id))?;
    Ok((started.elapsed().as_secs_f64() * 1e3, window.peak_bytes()))
}

fn run() -> Result<String, String> {
    let args = parse_args()?;
    let files = CircuitFiles::in_dir(&args.dir, &args.id);
    let circuit = Circuit::load(&args.id, &files, None).map_err(|e| e.message)?;
    let bytes = std::fs::read(&args.preimage).map_err(|e| format!("{}: {e}", args.preimage.display()))?;
    let preimage = Witness::Serialized(bytes.into()).into_preimage(&args.id).map_err(|e| e.message)?;
    // Hot params: the embedded SRS is parsed and downsized to k (or a larger k's file read) here,
    // outside the timed loop.
    let dirs = args.params_dir.iter().cloned().collect();
    let params = ParamsStore::with_sources(ParamsSources { dirs, allow_unpinned: true, ..Default::default() });
    params.get(circuit.k).map_err(|e| e.message)?;
    let pool = rayon::ThreadPoolBuilder::new().num_threads(args.threads).build().map_err(|e| e.to_string())?;
    pool.install(|| {
        let decode = decode_once(&files)?;
        // Same method as the addon's column: one untimed warm-up proof (first-touch allocations,
        // lazily initialised key parts), then the timed ones.
        let (warmup, warmup_peak) = prove_once(&circuit, &params, &preimage)?;
        let timed = (0..args.iterations).map(|_| prove_once(&circuit, &params, &preimage)).collect::<Result<Vec<_>, _>>()?;
        let peak = timed.iter().map(|&(_, peak)| peak).fold(warmup_peak, u64::max);
        let line = serde_json::json!({
            "circuit": args.id,
            "k": circuit.k,
            "threads": pool.current_num_threads(),
            "decodeMs": decode,
            "warmupMs": warmup,
            "iterationsMs": timed.iter().map(|&(ms, _)| ms).collect::<Vec<_>>(),
            "peakProofBytes": peak,
        });
        Ok(line.to_string())
    })
}

fn main() {
    match run() {
        Ok(line) => println!("{line}"),
        Err(message) => {
            eprintln!("floor: {message}");
            std::process::exit(1);
        }
    }
}
