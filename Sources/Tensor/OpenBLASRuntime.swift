import COpenBLAS
import Foundation

/// Which OpenBLAS kernel runs, and making sure it is the fast one.
///
/// OpenBLAS 0.3.21 does not recognise recent Xeon models and falls back to its Prescott kernel, about
/// seven times slower than SkylakeX on an AVX-512 machine. The kernel is chosen when the library is
/// loaded, from `OPENBLAS_CORETYPE`, so the only fix from inside the process is to set the variable and
/// execute the program again.
public enum OpenBLASRuntime {
    /// Set in the re-executed process so it can report what happened and never loops.
    static let reexecMarker = "RADFM_OPENBLAS_REEXECUTED"

    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// Call first thing in `main`. When `OPENBLAS_CORETYPE` is unset and the loaded kernel is slower than
    /// what the CPU supports, sets it and re-executes the process with the same arguments (this call then
    /// does not return). Returns a line to log, or nil when nothing was changed. A value already present
    /// in the environment is never overridden.
    public static func ensureFastKernel() -> String? {
        let environment = ProcessInfo.processInfo.environment
        if let chosen = environment[reexecMarker] {
            unsetenv(reexecMarker)
            return "OPENBLAS_CORETYPE unset; re-executed with \(chosen) (kernel now \(coreName))"
        }
        guard environment["OPENBLAS_CORETYPE"] == nil,
              let flags = cpuFlags(),
              let wanted = preferredCore(flags: flags),
              !acceptable(current: coreName, wanted: wanted)
        else { return nil }

        setenv("OPENBLAS_CORETYPE", wanted, 1)
        setenv(reexecMarker, wanted, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // Only reached when exec failed; keep running on the slow kernel rather than dying.
        unsetenv(reexecMarker)
        return "OPENBLAS_CORETYPE unset and re-executing with \(wanted) failed (errno \(errno)); "
            + "running on \(coreName)"
    }

    /// The fastest OpenBLAS kernel this CPU's flags allow, or nil when the default detection is fine.
    static func preferredCore(flags: Set<String>) -> String? {
        if ["avx512f", "avx512vl", "avx512bw", "avx512dq"].allSatisfy(flags.contains) { return "SkylakeX" }
        if flags.contains("avx2") { return "Haswell" }
        return nil
    }

    /// Whether the kernel OpenBLAS detected on its own already uses the instruction set `wanted` needs.
    static func acceptable(current: String, wanted: String) -> Bool {
        let avx512Kernels: Set<String> = ["skylakex", "cooperlake", "sapphirerapids"]
        let avx2Kernels: Set<String> = avx512Kernels.union(["haswell", "zen"])
        let name = current.lowercased()
        return wanted == "SkylakeX" ? avx512Kernels.contains(name) : avx2Kernels.contains(name)
    }

    static func cpuFlags() -> Set<String>? {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":")
        else { return nil }
        return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    }
}
