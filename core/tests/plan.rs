//! Plans: a trainer with a fixed plan (`plan_for!`) takes the same steps, bit for bit,
//! as one with the dynamic plan; a plan that does not fit its configuration is refused
//! at construction, and a schedule or clipping outside the plan is refused with
//! nothing changed.

use microtrain::trainer::plan::{Fixed, PlanMismatch, UpdatePath};
use microtrain::{
    online_storage_for, plan_for, storage_for, Activation, Adam, ConfigError, Dense, Loss, Optimizer, Plan,
    RMSprop, Schedule, Sgd, Target, Trainer,
};

const RELU: [Dense; 2] = [
    Dense::new(3, 6, Activation::Relu),
    Dense::new(6, 2, Activation::Identity),
];
const SMOOTH: [Dense; 2] = [
    Dense::new(3, 6, Activation::Tanh),
    Dense::new(6, 2, Activation::Sigmoid),
];
const ADAM: Adam = Adam::new(0.02);
const DECAYED_ADAM: Adam = Adam {
    weight_decay: 0.01,
    amsgrad: true,
    ..Adam::new(0.02)
};
const SGD: Sgd = Sgd::new(0.1);
const RMSPROP: RMSprop = RMSprop::new(0.01);

fn sample(i: usize) -> ([f32; 3], usize) {
    let f = i as f32;
    (
        [(f * 0.37).sin(), (f * 0.11).cos(), 0.5 - (f * 0.23).cos()],
        i % 2,
    )
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// 60 steps with `P` and with the dynamic plan, from the same start: the same losses,
/// parameters, state and gradients, bit for bit. `batch` steps go through
/// `train_batch` (two samples); the others through `train_sample`.
fn same_bits<O: Optimizer + Copy, P: Plan>(
    layers: &[Dense],
    opt: O,
    loss: Loss,
    schedule: Schedule,
    clip: Option<f32>,
) {
    let mut s1: Box<storage_for!(&RELU, DECAYED_ADAM)> = Box::default();
    let mut s2: Box<storage_for!(&RELU, DECAYED_ADAM)> = Box::default();
    let mut fixed = Trainer::<O, P>::with_plan(layers, s1.buffers(), opt, loss).expect("the plan fits");
    let mut dynamic = Trainer::new(layers, s2.buffers(), opt, loss).expect("fits");
    dynamic.set_schedule(schedule).unwrap();
    dynamic.set_clip_norm(clip).unwrap();
    fixed.set_schedule(schedule).unwrap();
    fixed.set_clip_norm(clip).unwrap();
    fixed.init_params(9);
    dynamic.init_params(9);
    for i in 0..60 {
        let (x, c) = sample(i);
        let values = [c as f32, 1.0 - c as f32];
        let target = match loss {
            Loss::SoftmaxCrossEntropy => Target::Class(c),
            _ => Target::Values(&values),
        };
        let a = fixed.train_sample(&x, target).expect("a good sample");
        let b = dynamic.train_sample(&x, target).expect("a good sample");
        assert_eq!(a.to_bits(), b.to_bits(), "loss at step {i}");
    }
    assert_eq!(bits(fixed.params()), bits(dynamic.params()));
    assert_eq!(bits(fixed.state()), bits(dynamic.state()));
    assert_eq!(bits(fixed.grads()), bits(dynamic.grads()));
    assert_eq!(fixed.step_count(), 60);
}

#[test]
fn a_fixed_plan_takes_the_same_steps_as_the_dynamic_one() {
    const CE: Loss = Loss::SoftmaxCrossEntropy;
    const BCE: Loss = Loss::BinaryCrossEntropy;
    const MSE: Loss = Loss::Mse;
    same_bits::<_, plan_for!(&RELU, ADAM, CE)>(&RELU, ADAM, CE, Schedule::Constant, None);
    same_bits::<_, plan_for!(&RELU, SGD, CE)>(&RELU, SGD, CE, Schedule::Constant, None);
    same_bits::<_, plan_for!(&RELU, DECAYED_ADAM, MSE)>(&RELU, DECAYED_ADAM, MSE, Schedule::Constant, None);
    same_bits::<_, plan_for!(&SMOOTH, RMSPROP, BCE)>(&SMOOTH, RMSPROP, BCE, Schedule::Constant, None);
    let decay = Schedule::Exponential { gamma: 0.97 };
    same_bits::<_, plan_for!(&RELU, ADAM, CE; schedule, clipping)>(&RELU, ADAM, CE, decay, Some(0.05));
    same_bits::<_, plan_for!(&SMOOTH, SGD, MSE; clipping)>(&SMOOTH, SGD, MSE, Schedule::Constant, Some(0.1));
}

#[test]
fn plan_for_reads_the_configuration() {
    type Relu = plan_for!(&RELU, ADAM, Loss::SoftmaxCrossEntropy);
    type Smooth = plan_for!(&SMOOTH, SGD, Loss::Mse; online, schedule);
    assert_eq!(Relu::LOSS, Some(Loss::SoftmaxCrossEntropy));
    assert_eq!(Relu::SIGMOID_OR_TANH, Some(false));
    assert_eq!((Relu::SCHEDULES, Relu::CLIPS), (false, false));
    assert_eq!(Smooth::LOSS, Some(Loss::Mse));
    assert_eq!(Smooth::SIGMOID_OR_TANH, Some(true));
    assert_eq!((Smooth::SCHEDULES, Smooth::CLIPS), (true, false));
    // The FPU kernel exists only on hard-float Arm; here every update is portable.
    let here = |covers: bool, stores| {
        if covers && microtrain::optim::FPU_KERNELS {
            UpdatePath::FpuKernel {
                stores_gradients: stores,
            }
        } else {
            UpdatePath::Portable
        }
    };
    assert_eq!(Relu::UPDATE, Some(here(ADAM.fpu_kernel_covers(), true)));
    assert_eq!(Smooth::UPDATE, Some(here(SGD.fpu_kernel_covers(), false)));
    // What the kernels cover, whatever the target.
    assert!(ADAM.fpu_kernel_covers() && SGD.fpu_kernel_covers());
    assert!(!DECAYED_ADAM.fpu_kernel_covers() && !Sgd::momentum(0.1, 0.9).fpu_kernel_covers());
    assert!(!RMSPROP.fpu_kernel_covers());
    for code in 0..3 {
        assert_eq!(
            UpdatePath::from_code(UpdatePath::from_code(code).code()).code(),
            code
        );
    }
}

#[test]
fn a_plan_that_does_not_fit_is_refused() {
    fn refused<P: Plan, O: Optimizer>(layers: &[Dense], opt: O, loss: Loss, online: bool) -> ConfigError {
        let mut full: Box<storage_for!(&RELU, DECAYED_ADAM)> = Box::default();
        let mut light: Box<online_storage_for!(&RELU, DECAYED_ADAM)> = Box::default();
        let buffers = if online { light.buffers() } else { full.buffers() };
        match Trainer::<O, P>::with_plan(layers, buffers, opt, loss) {
            Ok(_) => panic!("the plan does not fit, and was taken"),
            Err(e) => e,
        }
    }
    let plan = |m| ConfigError::Plan(m);
    type Ce = plan_for!(&RELU, ADAM, Loss::SoftmaxCrossEntropy);
    assert_eq!(
        refused::<Ce, _>(&RELU, ADAM, Loss::Mse, false),
        plan(PlanMismatch::Loss)
    );
    type NoSigmoid = plan_for!(&RELU, ADAM, Loss::Mse);
    assert_eq!(
        refused::<NoSigmoid, _>(&SMOOTH, ADAM, Loss::Mse, false),
        plan(PlanMismatch::SigmoidOrTanh)
    );
    // A plan whose update is the FPU kernel: refused for an optimizer it does not
    // cover (here, where there are no kernels, for every optimizer).
    type Kernel = Fixed<2, false, 1, false, false, false>;
    assert_eq!(
        refused::<Kernel, _>(&RELU, DECAYED_ADAM, Loss::SoftmaxCrossEntropy, false),
        plan(PlanMismatch::FpuKernel)
    );
    if !microtrain::optim::FPU_KERNELS {
        assert_eq!(
            refused::<Kernel, _>(&RELU, ADAM, Loss::SoftmaxCrossEntropy, false),
            plan(PlanMismatch::FpuKernel)
        );
    }
    // The message says what does not fit.
    let msg = plan(PlanMismatch::Schedule).to_string();
    assert!(msg.contains("plan") && msg.contains("schedule"), "{msg}");
}

#[test]
fn a_schedule_or_clipping_outside_the_plan_is_refused_with_nothing_changed() {
    let mut storage: Box<storage_for!(&RELU, ADAM)> = Box::default();
    let mut t = Trainer::<_, plan_for!(&RELU, ADAM, Loss::SoftmaxCrossEntropy)>::with_plan(
        &RELU,
        storage.buffers(),
        ADAM,
        Loss::SoftmaxCrossEntropy,
    )
    .expect("fits");
    assert_eq!(
        t.set_schedule(Schedule::Exponential { gamma: 0.9 }),
        Err(ConfigError::Plan(PlanMismatch::Schedule))
    );
    assert_eq!(t.schedule(), Schedule::Constant);
    assert_eq!(
        t.set_clip_norm(Some(1.0)),
        Err(ConfigError::Plan(PlanMismatch::Clipping))
    );
    assert_eq!(t.clip_norm(), None);
    // What the plan allows still works.
    assert_eq!(t.set_schedule(Schedule::Constant), Ok(()));
    assert_eq!(t.set_clip_norm(None), Ok(()));
    t.init_params(1);
    assert!(t.train_sample(&[0.1, 0.2, 0.3], Target::Class(1)).is_ok());
}

#[test]
fn an_online_plan_fits_online_storage() {
    let mut storage: Box<online_storage_for!(&RELU, ADAM)> = Box::default();
    type Online = plan_for!(&RELU, ADAM, Loss::SoftmaxCrossEntropy; online);
    let mut t = Trainer::<_, Online>::with_plan(&RELU, storage.buffers(), ADAM, Loss::SoftmaxCrossEntropy)
        .expect("fits");
    t.init_params(2);
    assert!(t.train_sample(&[0.1, 0.2, 0.3], Target::Class(0)).is_ok());
    assert!(t.is_online_only());
}
