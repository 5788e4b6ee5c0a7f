import Tensor

/// Must run before any BLAS work: on CPUs that OpenBLAS 0.3.21 does not recognise this re-executes the
/// process with OPENBLAS_CORETYPE set. Commands that compute log the note.
let openBLASStartupNote = OpenBLASRuntime.ensureFastKernel()

RadfmCommand.main()
