import Foundation
import Postgres

/// CPU time, as opposed to wall time: on a shared machine the wall-clock rate depends on what else
/// runs, while CPU seconds per event say what the pipeline itself costs.
enum PipelineBenchCPU {
    /// User + system time of this process, all threads.
    static func processSeconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// User + system time of this process's librdkafka threads (named "rdk:..."), which live as long
    /// as the Kafka clients; the rest of the process's time is the pipeline's own.
    static func librdkafkaThreadSeconds() -> Double {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return tasks.reduce(0) { total, tid in
            guard let stat = try? String(contentsOfFile: "/proc/self/task/\(tid)/stat", encoding: .utf8), stat.contains("(rdk:") else { return total }
            return total + (cpuSeconds(stat: stat) ?? 0)
        }
    }

    /// User + system time of another process on this machine (the PostgreSQL backend serving the
    /// service's session), from /proc; nil where it cannot be read (a remote server).
    static func processSeconds(pid: Int32) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return nil }
        return cpuSeconds(stat: stat)
    }

    private static func cpuSeconds(stat: String) -> Double? {
        guard let afterName = stat.range(of: ")", options: .backwards) else { return nil }
        // Fields after "pid (comm)": state is field 3, utime field 14, stime field 15.
        let fields = stat[afterName.upperBound...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// The server process of the session that `applicationName` names in `database`.
    static func backendPID(database: String, applicationName: String, admin: PostgresConnection) -> Int32? {
        let rows = try? admin.query("SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = $2", [database, applicationName])
        return rows?.first.flatMap { try? $0.decode("pid", as: Int32.self) }
    }

    private static func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1_000_000 }
}
