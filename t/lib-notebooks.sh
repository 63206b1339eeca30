# t/lib-notebooks.sh — fixtures for the deploy-notebooks tests, sourced
# after t/lib.sh and t/lib-git.sh:
#   nb_config SOURCE...   a config publishing SOURCEs into $NB
#   nb [OPTIONS...]       deploy-notebooks with that config

NB=$TRASH/hub/tutorial-notebooks
NB_LOG=$LOG_DIR/notebookdeploy.log

nb_config() {
	{
		echo "AUTODEPLOY_NOTEBOOK_SOURCES=\"$*\""
		echo "AUTODEPLOY_NOTEBOOK_DIR=$NB"
		echo "AUTODEPLOY_LOG_DIR=$LOG_DIR"
		echo "AUTODEPLOY_STATE_DIR=$STATE_DIR"
	} >"$CONFIG"
}

nb() { deploy-notebooks --config "$CONFIG" "$@"; }
