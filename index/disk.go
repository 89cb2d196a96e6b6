package index

// DiskUsage returns the bytes of the files the index's current snapshot is made of (live), and
// of every file in its folder. They differ after a merge: scorch keeps the segments it merged
// away for one older snapshot and deletes them only after a later write, so right after a bulk
// load the folder can be twice the size of the index.
func (x *Index) DiskUsage() (live, folder uint64) {
	stats, _ := x.current().StatsMap()["index"].(map[string]any)
	live, _ = stats["num_bytes_used_disk_by_root"].(uint64)
	folder, _ = stats["num_bytes_used_disk"].(uint64)
	return live, folder
}
