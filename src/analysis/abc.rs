//! ABC-SMC (Toni et al. 2009; Beaumont et al. 2009): populations of particles under a falling
//! tolerance, each drawn from the last by a Gaussian kernel and weighted by prior over proposal.

use crate::experiment::design::unit;

/// Streams of the sampler's draws (apart from the model's and the designs' by their high bits).
const PRIOR: u32 = 0xABC0_0001;
const PARENT: u32 = 0xABC0_0002;
const KERNEL: u32 = 0xABC0_0003;
/// Most kernel draws for one proposal before it is pulled back inside the prior's box.
const TRIES: u32 = 1000;

/// Independent uniform priors: field f in [lo[f], hi[f]].
#[derive(Debug, Clone, PartialEq)]
pub struct Prior {
    pub lo: Vec<f64>,
    pub hi: Vec<f64>,
}

impl Prior {
    pub fn dims(&self) -> usize {
        self.lo.len()
    }
    pub fn contains(&self, x: &[f64]) -> bool {
        x.iter().zip(self.lo.iter().zip(&self.hi)).all(|(v, (l, h))| (l..=h).contains(&v))
    }
}

/// One accepted particle.
#[derive(Debug, Clone, PartialEq)]
pub struct Particle {
    pub theta: Vec<f64>,
    /// Normalised importance weight (the weights of a generation sum to 1).
    pub weight: f64,
    pub distance: f64,
}

/// A finished population.
#[derive(Debug, Clone, PartialEq)]
pub struct Generation {
    pub index: usize,
    /// Particles were accepted at distance ≤ this (infinite for generation 0, the prior).
    pub tolerance: f64,
    pub particles: Vec<Particle>,
    /// Proposals simulated to fill it.
    pub simulations: usize,
}

impl Generation {
    /// Effective sample size, 1 / Σ w².
    pub fn ess(&self) -> f64 {
        1.0 / self.particles.iter().map(|p| p.weight * p.weight).sum::<f64>()
    }
    /// Accepted over simulated.
    pub fn acceptance(&self) -> f64 {
        self.particles.len() as f64 / self.simulations.max(1) as f64
    }
    /// Weighted quantile `q` of field f.
    pub fn quantile(&self, f: usize, q: f64) -> f64 {
        weighted_quantile(self.particles.iter().map(|p| (p.theta[f], p.weight)).collect(), q)
    }
    /// Weighted mean and standard deviation of field f.
    pub fn mean_sd(&self, f: usize) -> (f64, f64) {
        let m: f64 = self.particles.iter().map(|p| p.weight * p.theta[f]).sum();
        let v: f64 = self.particles.iter().map(|p| p.weight * (p.theta[f] - m).powi(2)).sum();
        (m, v.sqrt())
    }
}

/// The sampler's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// Particles per generation.
    pub particles: usize,
    /// The next tolerance is this weighted quantile of the last generation's distances.
    pub quantile: f64,
    /// Most proposals simulated for one generation.
    pub max_simulations: usize,
    /// Key of the sampler's draws.
    pub key: u32,
}

/// Simulates proposals (numbered from the second argument within the generation) and returns
/// each one's distance from the data.
pub type Simulate<'a, E> = dyn FnMut(&[Vec<f64>], usize) -> Result<Vec<f64>, E> + 'a;

/// How a generation ended.
pub enum Outcome {
    Done(Generation),
    /// The budget of simulations ran out with fewer particles than asked: (accepted, simulated,
    /// tolerance).
    Exhausted {
        accepted: usize,
        simulations: usize,
        tolerance: f64,
    },
}

/// Weighted quantile: the smallest value whose cumulative weight reaches q of the total.
pub fn weighted_quantile(mut vw: Vec<(f64, f64)>, q: f64) -> f64 {
    vw.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: f64 = vw.iter().map(|x| x.1).sum();
    let mut acc = 0.0;
    for &(v, w) in &vw {
        acc += w;
        if acc >= q * total {
            return v;
        }
    }
    vw.last().map_or(f64::NAN, |x| x.0)
}

/// The running sums of a generation's weights, for drawing particles by weight.
fn cumulative(gen: &Generation) -> Vec<f64> {
    gen.particles
        .iter()
        .scan(0.0, |acc, p| {
            *acc += p.weight;
            Some(*acc)
        })
        .collect()
}

/// `count` particles of `gen` drawn with replacement by weight (for the posterior predictive).
pub fn resample(gen: &Generation, count: usize, key: u32) -> Vec<usize> {
    let cum = cumulative(gen);
    let acc = cum.last().copied().unwrap_or(0.0);
    (0..count)
        .map(|i| {
            let u = unit(key, i as u32, u32::MAX, PARENT);
            cum.partition_point(|&c| c <= u * acc).min(cum.len() - 1)
        })
        .collect()
}

/// A standard normal draw (Box–Muller on two counter-based uniforms).
fn normal(key: u32, a: u32, b: u32, stream: u32) -> f64 {
    let u1 = 1.0 - unit(key, a, b, stream);
    let u2 = unit(key, a, b, stream ^ 0x4000_0000);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Proposal `i` of generation `g`: from the prior when there is no previous population, else a
/// weighted parent moved by the kernel with standard deviations `sd`, redrawn until inside the
/// prior (after `TRIES`, pulled to its edge).
fn propose(prior: &Prior, prev: Option<(&Generation, &[f64], &[f64])>, g: usize, i: usize, key: u32) -> Vec<f64> {
    let (g32, i32_) = (g as u32, i as u32);
    let Some((gen, cum, sd)) = prev else {
        return (0..prior.dims())
            .map(|f| prior.lo[f] + unit(key, i32_, g32, PRIOR + ((f as u32) << 8)) * (prior.hi[f] - prior.lo[f]))
            .collect();
    };
    let u = unit(key, i32_, g32, PARENT);
    let parent = cum.partition_point(|&c| c <= u * cum[cum.len() - 1]).min(cum.len() - 1);
    let base = &gen.particles[parent].theta;
    let mut x = base.clone();
    for t in 0..TRIES {
        for f in 0..prior.dims() {
            let stream = KERNEL + ((f as u32) << 8) + (t << 16);
            x[f] = base[f] + sd[f] * normal(key, i32_, g32, stream);
        }
        if prior.contains(&x) {
            return x;
        }
    }
    x.iter().enumerate().map(|(f, v)| v.clamp(prior.lo[f], prior.hi[f])).collect()
}

/// The kernel's standard deviations for the next generation: twice the weighted variance of
/// each field (Beaumont et al. 2009), and a floor so that a collapsed field can still move.
pub fn kernel_sd(prior: &Prior, gen: &Generation) -> Vec<f64> {
    (0..prior.dims())
        .map(|f| {
            let (_, sd) = gen.mean_sd(f);
            (2.0f64.sqrt() * sd).max(1e-6 * (prior.hi[f] - prior.lo[f]))
        })
        .collect()
}

/// Importance weight of `x` against the previous population (uniform prior: a constant over the
/// kernel density mixture).
fn weight(x: &[f64], gen: &Generation, sd: &[f64]) -> f64 {
    let mix: f64 = gen
        .particles
        .iter()
        .map(|p| {
            let e: f64 = x.iter().zip(&p.theta).zip(sd).map(|((a, b), s)| ((a - b) / s).powi(2)).sum();
            p.weight * (-0.5 * e).exp()
        })
        .sum();
    1.0 / mix
}

/// Fill generation `g` (`prev` the one before, None for the first, drawn from the prior and all
/// accepted). `simulate(proposals, first)` returns each proposal's distance; proposals are
/// numbered from `first` within the generation. Proposals go out in rounds sized from the last
/// acceptance rate, and the first `particles` accepted in proposal order are kept, so the result
/// depends on nothing but the settings, the prior and the distances.
pub fn generation<E>(prior: &Prior, prev: Option<&Generation>, s: &Settings, simulate: &mut Simulate<'_, E>) -> Result<Outcome, E> {
    let g = prev.map_or(0, |p| p.index + 1);
    let n = s.particles;
    let (tolerance, ctx) = match prev {
        None => (f64::INFINITY, None),
        Some(p) => {
            let tol = weighted_quantile(p.particles.iter().map(|x| (x.distance, x.weight)).collect(), s.quantile);
            (tol, Some((p, cumulative(p), kernel_sd(prior, p))))
        }
    };
    let mut rate = prev.map_or(1.0, |p| p.acceptance().max(0.5 * s.quantile));
    let mut accepted: Vec<(Vec<f64>, f64)> = Vec::with_capacity(n);
    let mut simulated = 0usize;
    while accepted.len() < n {
        let left = s.max_simulations - simulated;
        if left == 0 {
            return Ok(Outcome::Exhausted {
                accepted: accepted.len(),
                simulations: simulated,
                tolerance,
            });
        }
        // The prior's particles are all accepted: exactly n of them.
        let want = if prev.is_none() {
            n
        } else {
            ((n - accepted.len()) as f64 / rate.max(1e-3) * 1.1).ceil() as usize
        };
        let round = want.max(n.min(16)).min(8 * n).min(left);
        let props: Vec<Vec<f64>> = (simulated..simulated + round)
            .map(|i| propose(prior, ctx.as_ref().map(|(p, c, sd)| (*p, &c[..], &sd[..])), g, i, s.key))
            .collect();
        let dist = simulate(&props, simulated)?;
        simulated += round;
        let before = accepted.len();
        for (x, d) in props.into_iter().zip(dist) {
            if accepted.len() < n && d <= tolerance {
                accepted.push((x, d));
            }
        }
        rate = ((accepted.len() - before) as f64 / round as f64).max(1e-3);
    }
    let raw: Vec<f64> = accepted
        .iter()
        .map(|(x, _)| ctx.as_ref().map_or(1.0, |(p, _, sd)| weight(x, p, sd)))
        .collect();
    let total: f64 = raw.iter().sum();
    let particles = accepted
        .into_iter()
        .zip(raw)
        .map(|((theta, distance), w)| Particle {
            theta,
            weight: w / total,
            distance,
        })
        .collect();
    Ok(Outcome::Done(Generation {
        index: g,
        tolerance,
        particles,
        simulations: simulated,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::rng;

    /// A toy with a known posterior: 25 draws y ~ N(θ, 1), summarised by their mean; the
    /// observed mean is 1.3 and the prior U(−5, 5), so the posterior is close to N(1.3, 0.2²).
    fn run(particles: usize, generations: usize) -> Vec<Generation> {
        let prior = Prior {
            lo: vec![-5.0],
            hi: vec![5.0],
        };
        let s = Settings {
            particles,
            quantile: 0.5,
            max_simulations: 100 * particles,
            key: 7,
        };
        let mut gens: Vec<Generation> = Vec::new();
        for g in 0..generations {
            let mut sim = |xs: &[Vec<f64>], first: usize| -> Result<Vec<f64>, ()> {
                Ok(xs
                    .iter()
                    .enumerate()
                    .map(|(j, x)| {
                        let key = rng::run_key(11, g as u32, (first + j) as u32);
                        let m: f64 = (0..25).map(|d| x[0] + normal(key, d, 0, 1)).sum::<f64>() / 25.0;
                        (m - 1.3).abs()
                    })
                    .collect())
            };
            match generation(&prior, gens.last(), &s, &mut sim) {
                Ok(Outcome::Done(gen)) => gens.push(gen),
                _ => panic!("generation {g} did not fill"),
            }
        }
        gens
    }

    #[test]
    fn a_normal_mean_is_recovered_and_the_tolerance_falls() {
        let gens = run(1000, 7);
        for w in gens.windows(2) {
            assert!(w[1].tolerance < w[0].tolerance, "{} then {}", w[0].tolerance, w[1].tolerance);
            assert!(w[1].particles.iter().all(|p| p.distance <= w[1].tolerance));
        }
        let last = gens.last().expect("generations");
        let (m, sd) = last.mean_sd(0);
        assert!((m - 1.3).abs() < 0.05, "posterior mean {m}");
        // The exact posterior's sd is 0.2; a positive tolerance only widens it, a little.
        assert!((0.19..0.26).contains(&sd), "posterior sd {sd}");
        let (q05, q95) = (last.quantile(0, 0.05), last.quantile(0, 0.95));
        assert!(q05 < 1.3 && 1.3 < q95 && q95 - q05 < 1.0, "[{q05}, {q95}]");
        let wsum: f64 = last.particles.iter().map(|p| p.weight).sum();
        assert!((wsum - 1.0).abs() < 1e-9);
        assert!(last.ess() > 100.0 && last.ess() <= 1000.0 + 1e-9, "ess {}", last.ess());
    }

    #[test]
    fn the_same_settings_give_the_same_particles() {
        assert_eq!(run(200, 3), run(200, 3));
        let w = weighted_quantile(vec![(3.0, 1.0), (1.0, 1.0), (2.0, 2.0)], 0.5);
        assert_eq!(w, 2.0);
    }

    #[test]
    fn a_budget_too_small_is_reported() {
        let prior = Prior {
            lo: vec![0.0],
            hi: vec![1.0],
        };
        let s = Settings {
            particles: 50,
            quantile: 0.5,
            max_simulations: 60,
            key: 1,
        };
        let mut far = |xs: &[Vec<f64>], _: usize| -> Result<Vec<f64>, ()> { Ok(xs.iter().map(|x| x[0]).collect()) };
        let Ok(Outcome::Done(g0)) = generation(&prior, None, &s, &mut far) else {
            panic!("prior")
        };
        assert_eq!((g0.simulations, g0.particles.len()), (50, 50));
        let mut never = |xs: &[Vec<f64>], _: usize| -> Result<Vec<f64>, ()> { Ok(vec![9.0; xs.len()]) };
        match generation(&prior, Some(&g0), &s, &mut never) {
            Ok(Outcome::Exhausted { accepted, simulations, .. }) => assert_eq!((accepted, simulations), (0, 60)),
            _ => panic!("should run out"),
        }
    }
}
