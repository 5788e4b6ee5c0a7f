import Tensor

/// Must run before any BLAS work: on CPUs that OpenBLAS 0.3.21 does not recognise this re-executes the
/// process with OPENBLAS_CORETYPE set.
let openBLASStartupNote = OpenBLASRuntime.ensureFastKernel()

TrainCommand.main()
