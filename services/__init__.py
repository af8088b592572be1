"""The composition root: runs any set of Quotaflow services, in one process or one each."""
