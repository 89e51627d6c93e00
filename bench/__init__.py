"""`make bench`: nat-on-demand measured against a waiter-in-Lambda baseline on the local AWS."""
