"""Reading and writing files: the package descriptor and its resources
(`package`), CSV as written (`csvfile`), bounded and symlink-safe reads
(`safeio`), remote fetches (`fetch`), atomic writes (`atomic`) and the
descriptor's stored statistics (`descriptor`)."""
