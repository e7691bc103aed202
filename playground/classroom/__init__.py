"""Class mode: one server for a whole class. config (class.toml: on/off, limits, pool size), roster
(people and their join links), access (what each person sees of the run store), limits (what one
student may queue), overview (the teacher's view of the class)."""
