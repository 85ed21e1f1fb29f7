-- 003_host_facts.sql - what each machine that ran a run's jobs was: its
-- kernel, CPU model and count, memory, KVM flavour and the vmorch (or
-- worker) version there.  One row per run and host: a local run has one, a
-- fleet run one per host that took jobs.  `diff` warns when its two sides
-- ran on machines with another CPU model or kernel; `show` lists them.
-- @host is the name results carry in vm_results.host.
-- @kvm is where /dev/kvm came from: intel, amd, pvm, none or unknown.

CREATE TABLE host_facts (
	run_id		INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	host		TEXT NOT NULL,
	kernel_release	TEXT NOT NULL,
	cpu_model	TEXT NOT NULL,
	cpus		INTEGER NOT NULL CHECK (cpus >= 0),
	memory_bytes	INTEGER NOT NULL CHECK (memory_bytes >= 0),
	kvm		TEXT NOT NULL
			CHECK (kvm IN ('intel', 'amd', 'pvm', 'none', 'unknown')),
	vmorch_version	TEXT NOT NULL,
	PRIMARY KEY (run_id, host)
) STRICT, WITHOUT ROWID;
