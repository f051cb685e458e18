"""The spec schema's validator: fastjsonschema 2.22.3's compile of schemas/spec.schema.json, edited
by cardrepro.validate.compiled_source. Generated: do not edit; regenerate with `python -m cardrepro.validate --regenerate`
(tests/test_validator.py fails while this file and a fresh compile differ)."""
VERSION = "2.22.3"
from decimal import Decimal
import re


class JsonSchemaValueException(ValueError):
    pass


REGEX_PATTERNS = {
    '^[a-z0-9][a-z0-9\\-]*$': re.compile('^[a-z0-9][a-z0-9\\-]*\\Z'),
    '^[0-9a-f]{64}$': re.compile('^[0-9a-f]{64}\\Z'),
    '^(card|cli|derived|default:[a-z0-9\\-]+)$': re.compile('^(card|cli|derived|default:[a-z0-9\\-]+)\\Z')
}

NoneType = type(None)

def validate_https___cardrepro_dev_schemas_spec_schema_json(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['name', 'card', 'provenance']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException
        data_keys = set(data.keys())
        if "name" in data_keys:
            data_keys.remove("name")
            data__name = data["name"]
            if not isinstance(data__name, (str)):
                raise JsonSchemaValueException
            if isinstance(data__name, str):
                if not REGEX_PATTERNS['^[a-z0-9][a-z0-9\\-]*$'].search(data__name):
                    raise JsonSchemaValueException
        if "card" in data_keys:
            data_keys.remove("card")
            data__card = data["card"]
            if not isinstance(data__card, (dict)):
                raise JsonSchemaValueException
            data__card_is_dict = isinstance(data__card, dict)
            if data__card_is_dict:
                data__card__missing_keys = set(['path', 'sha256']) - data__card.keys()
                if data__card__missing_keys:
                    raise JsonSchemaValueException
                data__card_keys = set(data__card.keys())
                if "path" in data__card_keys:
                    data__card_keys.remove("path")
                    data__card__path = data__card["path"]
                    if not isinstance(data__card__path, (str)):
                        raise JsonSchemaValueException
                if "sha256" in data__card_keys:
                    data__card_keys.remove("sha256")
                    data__card__sha256 = data__card["sha256"]
                    if not isinstance(data__card__sha256, (str)):
                        raise JsonSchemaValueException
                    if isinstance(data__card__sha256, str):
                        if not REGEX_PATTERNS['^[0-9a-f]{64}$'].search(data__card__sha256):
                            raise JsonSchemaValueException
                if "lines" in data__card_keys:
                    data__card_keys.remove("lines")
                    data__card__lines = data__card["lines"]
                    if not isinstance(data__card__lines, (int)) and not (isinstance(data__card__lines, float) and data__card__lines.is_integer()) or isinstance(data__card__lines, bool):
                        raise JsonSchemaValueException
        if "licence" in data_keys:
            data_keys.remove("licence")
            data__licence = data["licence"]
            if not isinstance(data__licence, (str)):
                raise JsonSchemaValueException
        if "languages" in data_keys:
            data_keys.remove("languages")
            data__languages = data["languages"]
            if not isinstance(data__languages, (list)):
                raise JsonSchemaValueException
            data__languages_is_list = isinstance(data__languages, (list))
            if data__languages_is_list:
                data__languages_len = len(data__languages)
                for data__languages_x, data__languages_item in enumerate(data__languages):
                    if not isinstance(data__languages_item, (str)):
                        raise JsonSchemaValueException
        if "base_model" in data_keys:
            data_keys.remove("base_model")
            data__basemodel = data["base_model"]
            if not isinstance(data__basemodel, (dict)):
                raise JsonSchemaValueException
            data__basemodel_is_dict = isinstance(data__basemodel, dict)
            if data__basemodel_is_dict:
                data__basemodel_keys = set(data__basemodel.keys())
                if "name" in data__basemodel_keys:
                    data__basemodel_keys.remove("name")
                    data__basemodel__name = data__basemodel["name"]
                    if not isinstance(data__basemodel__name, (str)):
                        raise JsonSchemaValueException
                if "architecture" in data__basemodel_keys:
                    data__basemodel_keys.remove("architecture")
                    data__basemodel__architecture = data__basemodel["architecture"]
                    if not isinstance(data__basemodel__architecture, (str)):
                        raise JsonSchemaValueException
        if "model" in data_keys:
            data_keys.remove("model")
            data__model = data["model"]
            if not isinstance(data__model, (dict)):
                raise JsonSchemaValueException
            data__model_is_dict = isinstance(data__model, dict)
            if data__model_is_dict:
                data__model_keys = set(data__model.keys())
                if "hub_id" in data__model_keys:
                    data__model_keys.remove("hub_id")
                    data__model__hubid = data__model["hub_id"]
                    if not isinstance(data__model__hubid, (str)):
                        raise JsonSchemaValueException
                if "revision" in data__model_keys:
                    data__model_keys.remove("revision")
                    data__model__revision = data__model["revision"]
                    if not isinstance(data__model__revision, (str)):
                        raise JsonSchemaValueException
                if "released" in data__model_keys:
                    data__model_keys.remove("released")
                    data__model__released = data__model["released"]
                    if not isinstance(data__model__released, (dict)):
                        raise JsonSchemaValueException
                    data__model__released_is_dict = isinstance(data__model__released, dict)
                    if data__model__released_is_dict:
                        data__model__released_keys = set(data__model__released.keys())
                        if "checkpoint" in data__model__released_keys:
                            data__model__released_keys.remove("checkpoint")
                            data__model__released__checkpoint = data__model__released["checkpoint"]
                            if not isinstance(data__model__released__checkpoint, (str)):
                                raise JsonSchemaValueException
                        if "epochs" in data__model__released_keys:
                            data__model__released_keys.remove("epochs")
                            data__model__released__epochs = data__model__released["epochs"]
                            if not isinstance(data__model__released__epochs, (int)) and not (isinstance(data__model__released__epochs, float) and data__model__released__epochs.is_integer()) or isinstance(data__model__released__epochs, bool):
                                raise JsonSchemaValueException
                        if "steps" in data__model__released_keys:
                            data__model__released_keys.remove("steps")
                            data__model__released__steps = data__model__released["steps"]
                            if not isinstance(data__model__released__steps, (int)) and not (isinstance(data__model__released__steps, float) and data__model__released__steps.is_integer()) or isinstance(data__model__released__steps, bool):
                                raise JsonSchemaValueException
        if "method" in data_keys:
            data_keys.remove("method")
            data__method = data["method"]
            if not isinstance(data__method, (str)):
                raise JsonSchemaValueException
            if not (isinstance(data__method, str) and data__method == 'sft' or isinstance(data__method, str) and data__method == 'lora' or isinstance(data__method, str) and data__method == 'qlora' or isinstance(data__method, str) and data__method == 'dpo' or isinstance(data__method, str) and data__method == 'continual_pretraining' or isinstance(data__method, str) and data__method == 'pretraining' or isinstance(data__method, str) and data__method == 'reward_model' or isinstance(data__method, str) and data__method == 'rlhf' or isinstance(data__method, str) and data__method == 'orpo' or isinstance(data__method, str) and data__method == 'simpo' or isinstance(data__method, str) and data__method == 'kto'):
                raise JsonSchemaValueException
        if "stages" in data_keys:
            data_keys.remove("stages")
            data__stages = data["stages"]
            if not isinstance(data__stages, (list)):
                raise JsonSchemaValueException
            data__stages_is_list = isinstance(data__stages, (list))
            if data__stages_is_list:
                data__stages_len = len(data__stages)
                for data__stages_x, data__stages_item in enumerate(data__stages):
                    if not isinstance(data__stages_item, (dict)):
                        raise JsonSchemaValueException
                    data__stages_item_is_dict = isinstance(data__stages_item, dict)
                    if data__stages_item_is_dict:
                        data__stages_item__missing_keys = set(['method']) - data__stages_item.keys()
                        if data__stages_item__missing_keys:
                            raise JsonSchemaValueException
                        data__stages_item_keys = set(data__stages_item.keys())
                        if "method" in data__stages_item_keys:
                            data__stages_item_keys.remove("method")
                            data__stages_item__method = data__stages_item["method"]
                            if not isinstance(data__stages_item__method, (str)):
                                raise JsonSchemaValueException
                        if "num_gpus" in data__stages_item_keys:
                            data__stages_item_keys.remove("num_gpus")
                            data__stages_item__numgpus = data__stages_item["num_gpus"]
                            if not isinstance(data__stages_item__numgpus, (int)) and not (isinstance(data__stages_item__numgpus, float) and data__stages_item__numgpus.is_integer()) or isinstance(data__stages_item__numgpus, bool):
                                raise JsonSchemaValueException
                            if isinstance(data__stages_item__numgpus, (int, float, Decimal)) and not isinstance(data__stages_item__numgpus, bool):
                                if data__stages_item__numgpus < 1:
                                    raise JsonSchemaValueException
                        if "gpu" in data__stages_item_keys:
                            data__stages_item_keys.remove("gpu")
                            data__stages_item__gpu = data__stages_item["gpu"]
                            if not isinstance(data__stages_item__gpu, (str)):
                                raise JsonSchemaValueException
                        if "dtype" in data__stages_item_keys:
                            data__stages_item_keys.remove("dtype")
                            data__stages_item__dtype = data__stages_item["dtype"]
                            if not (isinstance(data__stages_item__dtype, str) and data__stages_item__dtype == 'fp16' or isinstance(data__stages_item__dtype, str) and data__stages_item__dtype == 'bf16' or isinstance(data__stages_item__dtype, str) and data__stages_item__dtype == 'fp32'):
                                raise JsonSchemaValueException
                        if "tokens" in data__stages_item_keys:
                            data__stages_item_keys.remove("tokens")
                            data__stages_item__tokens = data__stages_item["tokens"]
                            if not isinstance(data__stages_item__tokens, (int, float, Decimal)) or isinstance(data__stages_item__tokens, bool):
                                raise JsonSchemaValueException
                        if "duration_days" in data__stages_item_keys:
                            data__stages_item_keys.remove("duration_days")
                            data__stages_item__durationdays = data__stages_item["duration_days"]
                            if not isinstance(data__stages_item__durationdays, (int, float, Decimal)) or isinstance(data__stages_item__durationdays, bool):
                                raise JsonSchemaValueException
                        if "tflops_per_gpu" in data__stages_item_keys:
                            data__stages_item_keys.remove("tflops_per_gpu")
                            data__stages_item__tflopspergpu = data__stages_item["tflops_per_gpu"]
                            if not isinstance(data__stages_item__tflopspergpu, (int, float, Decimal)) or isinstance(data__stages_item__tflopspergpu, bool):
                                raise JsonSchemaValueException
                        if "duration_text" in data__stages_item_keys:
                            data__stages_item_keys.remove("duration_text")
                            data__stages_item__durationtext = data__stages_item["duration_text"]
                            if not isinstance(data__stages_item__durationtext, (str)):
                                raise JsonSchemaValueException
                        if "algorithms" in data__stages_item_keys:
                            data__stages_item_keys.remove("algorithms")
                            data__stages_item__algorithms = data__stages_item["algorithms"]
                            if not isinstance(data__stages_item__algorithms, (list)):
                                raise JsonSchemaValueException
                            data__stages_item__algorithms_is_list = isinstance(data__stages_item__algorithms, (list))
                            if data__stages_item__algorithms_is_list:
                                data__stages_item__algorithms_len = len(data__stages_item__algorithms)
                                for data__stages_item__algorithms_x, data__stages_item__algorithms_item in enumerate(data__stages_item__algorithms):
                                    if not isinstance(data__stages_item__algorithms_item, (str)):
                                        raise JsonSchemaValueException
                        if "framework" in data__stages_item_keys:
                            data__stages_item_keys.remove("framework")
                            data__stages_item__framework = data__stages_item["framework"]
                            if not isinstance(data__stages_item__framework, (str)):
                                raise JsonSchemaValueException
                        if "datasets" in data__stages_item_keys:
                            data__stages_item_keys.remove("datasets")
                            data__stages_item__datasets = data__stages_item["datasets"]
                            if not isinstance(data__stages_item__datasets, (list)):
                                raise JsonSchemaValueException
                            data__stages_item__datasets_is_list = isinstance(data__stages_item__datasets, (list))
                            if data__stages_item__datasets_is_list:
                                data__stages_item__datasets_len = len(data__stages_item__datasets)
                                for data__stages_item__datasets_x, data__stages_item__datasets_item in enumerate(data__stages_item__datasets):
                                    if not isinstance(data__stages_item__datasets_item, (str)):
                                        raise JsonSchemaValueException
                        if "beta" in data__stages_item_keys:
                            data__stages_item_keys.remove("beta")
                            data__stages_item__beta = data__stages_item["beta"]
                            if not isinstance(data__stages_item__beta, (int, float, Decimal)) or isinstance(data__stages_item__beta, bool):
                                raise JsonSchemaValueException
                            if isinstance(data__stages_item__beta, (int, float, Decimal)) and not isinstance(data__stages_item__beta, bool):
                                if data__stages_item__beta <= 0:
                                    raise JsonSchemaValueException
                        if "loss_type" in data__stages_item_keys:
                            data__stages_item_keys.remove("loss_type")
                            data__stages_item__losstype = data__stages_item["loss_type"]
                            if not isinstance(data__stages_item__losstype, (str, list)):
                                raise JsonSchemaValueException
                            data__stages_item__losstype_is_list = isinstance(data__stages_item__losstype, (list))
                            if data__stages_item__losstype_is_list:
                                data__stages_item__losstype_len = len(data__stages_item__losstype)
                                for data__stages_item__losstype_x, data__stages_item__losstype_item in enumerate(data__stages_item__losstype):
                                    if not isinstance(data__stages_item__losstype_item, (str)):
                                        raise JsonSchemaValueException
                        if "simpo_gamma" in data__stages_item_keys:
                            data__stages_item_keys.remove("simpo_gamma")
                            data__stages_item__simpogamma = data__stages_item["simpo_gamma"]
                            if not isinstance(data__stages_item__simpogamma, (int, float, Decimal)) or isinstance(data__stages_item__simpogamma, bool):
                                raise JsonSchemaValueException
                        if "label_smoothing" in data__stages_item_keys:
                            data__stages_item_keys.remove("label_smoothing")
                            data__stages_item__labelsmoothing = data__stages_item["label_smoothing"]
                            if not isinstance(data__stages_item__labelsmoothing, (int, float, Decimal)) or isinstance(data__stages_item__labelsmoothing, bool):
                                raise JsonSchemaValueException
                            if isinstance(data__stages_item__labelsmoothing, (int, float, Decimal)) and not isinstance(data__stages_item__labelsmoothing, bool):
                                if data__stages_item__labelsmoothing < 0:
                                    raise JsonSchemaValueException
                                if data__stages_item__labelsmoothing > 0.5:
                                    raise JsonSchemaValueException
                        if "max_prompt_length" in data__stages_item_keys:
                            data__stages_item_keys.remove("max_prompt_length")
                            data__stages_item__maxpromptlength = data__stages_item["max_prompt_length"]
                            if not isinstance(data__stages_item__maxpromptlength, (int)) and not (isinstance(data__stages_item__maxpromptlength, float) and data__stages_item__maxpromptlength.is_integer()) or isinstance(data__stages_item__maxpromptlength, bool):
                                raise JsonSchemaValueException
                            if isinstance(data__stages_item__maxpromptlength, (int, float, Decimal)) and not isinstance(data__stages_item__maxpromptlength, bool):
                                if data__stages_item__maxpromptlength < 1:
                                    raise JsonSchemaValueException
                        if "max_completion_length" in data__stages_item_keys:
                            data__stages_item_keys.remove("max_completion_length")
                            data__stages_item__maxcompletionlength = data__stages_item["max_completion_length"]
                            if not isinstance(data__stages_item__maxcompletionlength, (int)) and not (isinstance(data__stages_item__maxcompletionlength, float) and data__stages_item__maxcompletionlength.is_integer()) or isinstance(data__stages_item__maxcompletionlength, bool):
                                raise JsonSchemaValueException
                            if isinstance(data__stages_item__maxcompletionlength, (int, float, Decimal)) and not isinstance(data__stages_item__maxcompletionlength, bool):
                                if data__stages_item__maxcompletionlength < 1:
                                    raise JsonSchemaValueException
                        if "desirable_weight" in data__stages_item_keys:
                            data__stages_item_keys.remove("desirable_weight")
                            data__stages_item__desirableweight = data__stages_item["desirable_weight"]
                            if not isinstance(data__stages_item__desirableweight, (int, float, Decimal)) or isinstance(data__stages_item__desirableweight, bool):
                                raise JsonSchemaValueException
                            if isinstance(data__stages_item__desirableweight, (int, float, Decimal)) and not isinstance(data__stages_item__desirableweight, bool):
                                if data__stages_item__desirableweight <= 0:
                                    raise JsonSchemaValueException
                        if "undesirable_weight" in data__stages_item_keys:
                            data__stages_item_keys.remove("undesirable_weight")
                            data__stages_item__undesirableweight = data__stages_item["undesirable_weight"]
                            if not isinstance(data__stages_item__undesirableweight, (int, float, Decimal)) or isinstance(data__stages_item__undesirableweight, bool):
                                raise JsonSchemaValueException
                            if isinstance(data__stages_item__undesirableweight, (int, float, Decimal)) and not isinstance(data__stages_item__undesirableweight, bool):
                                if data__stages_item__undesirableweight <= 0:
                                    raise JsonSchemaValueException
        if "tokenizer" in data_keys:
            data_keys.remove("tokenizer")
            data__tokenizer = data["tokenizer"]
            if not isinstance(data__tokenizer, (dict)):
                raise JsonSchemaValueException
            data__tokenizer_is_dict = isinstance(data__tokenizer, dict)
            if data__tokenizer_is_dict:
                data__tokenizer_keys = set(data__tokenizer.keys())
                if "vocab_size" in data__tokenizer_keys:
                    data__tokenizer_keys.remove("vocab_size")
                    data__tokenizer__vocabsize = data__tokenizer["vocab_size"]
                    if not isinstance(data__tokenizer__vocabsize, (int, NoneType)) and not (isinstance(data__tokenizer__vocabsize, float) and data__tokenizer__vocabsize.is_integer()) or isinstance(data__tokenizer__vocabsize, bool):
                        raise JsonSchemaValueException
                    if isinstance(data__tokenizer__vocabsize, (int, float, Decimal)) and not isinstance(data__tokenizer__vocabsize, bool):
                        if data__tokenizer__vocabsize < 1:
                            raise JsonSchemaValueException
        if "prompt" in data_keys:
            data_keys.remove("prompt")
            data__prompt = data["prompt"]
            if not isinstance(data__prompt, (dict)):
                raise JsonSchemaValueException
            data__prompt_is_dict = isinstance(data__prompt, dict)
            if data__prompt_is_dict:
                data__prompt_keys = set(data__prompt.keys())
                if "user_prefix" in data__prompt_keys:
                    data__prompt_keys.remove("user_prefix")
                    data__prompt__userprefix = data__prompt["user_prefix"]
                    if not isinstance(data__prompt__userprefix, (str)):
                        raise JsonSchemaValueException
                if "user_suffix" in data__prompt_keys:
                    data__prompt_keys.remove("user_suffix")
                    data__prompt__usersuffix = data__prompt["user_suffix"]
                    if not isinstance(data__prompt__usersuffix, (str, NoneType)):
                        raise JsonSchemaValueException
                if "assistant_prefix" in data__prompt_keys:
                    data__prompt_keys.remove("assistant_prefix")
                    data__prompt__assistantprefix = data__prompt["assistant_prefix"]
                    if not isinstance(data__prompt__assistantprefix, (str)):
                        raise JsonSchemaValueException
                if "assistant_suffix" in data__prompt_keys:
                    data__prompt_keys.remove("assistant_suffix")
                    data__prompt__assistantsuffix = data__prompt["assistant_suffix"]
                    if not isinstance(data__prompt__assistantsuffix, (str, NoneType)):
                        raise JsonSchemaValueException
                if "system_prefix" in data__prompt_keys:
                    data__prompt_keys.remove("system_prefix")
                    data__prompt__systemprefix = data__prompt["system_prefix"]
                    if not isinstance(data__prompt__systemprefix, (str, NoneType)):
                        raise JsonSchemaValueException
                if "system_suffix" in data__prompt_keys:
                    data__prompt_keys.remove("system_suffix")
                    data__prompt__systemsuffix = data__prompt["system_suffix"]
                    if not isinstance(data__prompt__systemsuffix, (str, NoneType)):
                        raise JsonSchemaValueException
                if "examples" in data__prompt_keys:
                    data__prompt_keys.remove("examples")
                    data__prompt__examples = data__prompt["examples"]
                    if not isinstance(data__prompt__examples, (list)):
                        raise JsonSchemaValueException
                    data__prompt__examples_is_list = isinstance(data__prompt__examples, (list))
                    if data__prompt__examples_is_list:
                        data__prompt__examples_len = len(data__prompt__examples)
                        for data__prompt__examples_x, data__prompt__examples_item in enumerate(data__prompt__examples):
                            if not isinstance(data__prompt__examples_item, (dict)):
                                raise JsonSchemaValueException
                            data__prompt__examples_item_is_dict = isinstance(data__prompt__examples_item, dict)
                            if data__prompt__examples_item_is_dict:
                                data__prompt__examples_item__missing_keys = set(['text', 'line']) - data__prompt__examples_item.keys()
                                if data__prompt__examples_item__missing_keys:
                                    raise JsonSchemaValueException
                                data__prompt__examples_item_keys = set(data__prompt__examples_item.keys())
                                if "text" in data__prompt__examples_item_keys:
                                    data__prompt__examples_item_keys.remove("text")
                                    data__prompt__examples_item__text = data__prompt__examples_item["text"]
                                    if not isinstance(data__prompt__examples_item__text, (str)):
                                        raise JsonSchemaValueException
                                if "line" in data__prompt__examples_item_keys:
                                    data__prompt__examples_item_keys.remove("line")
                                    data__prompt__examples_item__line = data__prompt__examples_item["line"]
                                    if not isinstance(data__prompt__examples_item__line, (int)) and not (isinstance(data__prompt__examples_item__line, float) and data__prompt__examples_item__line.is_integer()) or isinstance(data__prompt__examples_item__line, bool):
                                        raise JsonSchemaValueException
        if "datasets" in data_keys:
            data_keys.remove("datasets")
            data__datasets = data["datasets"]
            if not isinstance(data__datasets, (list)):
                raise JsonSchemaValueException
            data__datasets_is_list = isinstance(data__datasets, (list))
            if data__datasets_is_list:
                data__datasets_len = len(data__datasets)
                for data__datasets_x, data__datasets_item in enumerate(data__datasets):
                    if not isinstance(data__datasets_item, (dict)):
                        raise JsonSchemaValueException
                    data__datasets_item_is_dict = isinstance(data__datasets_item, dict)
                    if data__datasets_item_is_dict:
                        data__datasets_item__missing_keys = set(['name', 'options', 'availability']) - data__datasets_item.keys()
                        if data__datasets_item__missing_keys:
                            raise JsonSchemaValueException
                        data__datasets_item_keys = set(data__datasets_item.keys())
                        if "name" in data__datasets_item_keys:
                            data__datasets_item_keys.remove("name")
                            data__datasets_item__name = data__datasets_item["name"]
                            if not isinstance(data__datasets_item__name, (str)):
                                raise JsonSchemaValueException
                        if "options" in data__datasets_item_keys:
                            data__datasets_item_keys.remove("options")
                            data__datasets_item__options = data__datasets_item["options"]
                            if not isinstance(data__datasets_item__options, (dict)):
                                raise JsonSchemaValueException
                        if "availability" in data__datasets_item_keys:
                            data__datasets_item_keys.remove("availability")
                            data__datasets_item__availability = data__datasets_item["availability"]
                            if not (isinstance(data__datasets_item__availability, str) and data__datasets_item__availability == 'public' or isinstance(data__datasets_item__availability, str) and data__datasets_item__availability == 'internal' or isinstance(data__datasets_item__availability, str) and data__datasets_item__availability == 'local_path' or isinstance(data__datasets_item__availability, str) and data__datasets_item__availability == 'unknown'):
                                raise JsonSchemaValueException
        if "metadata_datasets" in data_keys:
            data_keys.remove("metadata_datasets")
            data__metadatadatasets = data["metadata_datasets"]
            if not isinstance(data__metadatadatasets, (list)):
                raise JsonSchemaValueException
            data__metadatadatasets_is_list = isinstance(data__metadatadatasets, (list))
            if data__metadatadatasets_is_list:
                data__metadatadatasets_len = len(data__metadatadatasets)
                for data__metadatadatasets_x, data__metadatadatasets_item in enumerate(data__metadatadatasets):
                    if not isinstance(data__metadatadatasets_item, (str)):
                        raise JsonSchemaValueException
        if "training" in data_keys:
            data_keys.remove("training")
            data__training = data["training"]
            if not isinstance(data__training, (dict)):
                raise JsonSchemaValueException
            data__training_is_dict = isinstance(data__training, dict)
            if data__training_is_dict:
                data__training_keys = set(data__training.keys())
                if "learning_rate" in data__training_keys:
                    data__training_keys.remove("learning_rate")
                    data__training__learningrate = data__training["learning_rate"]
                    if not isinstance(data__training__learningrate, (int, float, Decimal)) or isinstance(data__training__learningrate, bool):
                        raise JsonSchemaValueException
                if "warmup_ratio" in data__training_keys:
                    data__training_keys.remove("warmup_ratio")
                    data__training__warmupratio = data__training["warmup_ratio"]
                    if not isinstance(data__training__warmupratio, (int, float, Decimal)) or isinstance(data__training__warmupratio, bool):
                        raise JsonSchemaValueException
                if "weight_decay" in data__training_keys:
                    data__training_keys.remove("weight_decay")
                    data__training__weightdecay = data__training["weight_decay"]
                    if not isinstance(data__training__weightdecay, (int, float, Decimal)) or isinstance(data__training__weightdecay, bool):
                        raise JsonSchemaValueException
                if "max_grad_norm" in data__training_keys:
                    data__training_keys.remove("max_grad_norm")
                    data__training__maxgradnorm = data__training["max_grad_norm"]
                    if not isinstance(data__training__maxgradnorm, (int, float, Decimal)) or isinstance(data__training__maxgradnorm, bool):
                        raise JsonSchemaValueException
                if "adam_beta1" in data__training_keys:
                    data__training_keys.remove("adam_beta1")
                    data__training__adambeta1 = data__training["adam_beta1"]
                    if not isinstance(data__training__adambeta1, (int, float, Decimal)) or isinstance(data__training__adambeta1, bool):
                        raise JsonSchemaValueException
                if "adam_beta2" in data__training_keys:
                    data__training_keys.remove("adam_beta2")
                    data__training__adambeta2 = data__training["adam_beta2"]
                    if not isinstance(data__training__adambeta2, (int, float, Decimal)) or isinstance(data__training__adambeta2, bool):
                        raise JsonSchemaValueException
                if "adam_epsilon" in data__training_keys:
                    data__training_keys.remove("adam_epsilon")
                    data__training__adamepsilon = data__training["adam_epsilon"]
                    if not isinstance(data__training__adamepsilon, (int, float, Decimal)) or isinstance(data__training__adamepsilon, bool):
                        raise JsonSchemaValueException
                if "num_train_epochs" in data__training_keys:
                    data__training_keys.remove("num_train_epochs")
                    data__training__numtrainepochs = data__training["num_train_epochs"]
                    if not isinstance(data__training__numtrainepochs, (int, float, Decimal)) or isinstance(data__training__numtrainepochs, bool):
                        raise JsonSchemaValueException
                    if isinstance(data__training__numtrainepochs, (int, float, Decimal)) and not isinstance(data__training__numtrainepochs, bool):
                        if data__training__numtrainepochs < 0:
                            raise JsonSchemaValueException
                if "max_steps" in data__training_keys:
                    data__training_keys.remove("max_steps")
                    data__training__maxsteps = data__training["max_steps"]
                    if not isinstance(data__training__maxsteps, (int)) and not (isinstance(data__training__maxsteps, float) and data__training__maxsteps.is_integer()) or isinstance(data__training__maxsteps, bool):
                        raise JsonSchemaValueException
                    if isinstance(data__training__maxsteps, (int, float, Decimal)) and not isinstance(data__training__maxsteps, bool):
                        if data__training__maxsteps < 0:
                            raise JsonSchemaValueException
                if "per_device_train_batch_size" in data__training_keys:
                    data__training_keys.remove("per_device_train_batch_size")
                    data__training__perdevicetrainbatchsize = data__training["per_device_train_batch_size"]
                    if not isinstance(data__training__perdevicetrainbatchsize, (int)) and not (isinstance(data__training__perdevicetrainbatchsize, float) and data__training__perdevicetrainbatchsize.is_integer()) or isinstance(data__training__perdevicetrainbatchsize, bool):
                        raise JsonSchemaValueException
                    if isinstance(data__training__perdevicetrainbatchsize, (int, float, Decimal)) and not isinstance(data__training__perdevicetrainbatchsize, bool):
                        if data__training__perdevicetrainbatchsize < 0:
                            raise JsonSchemaValueException
                if "per_device_eval_batch_size" in data__training_keys:
                    data__training_keys.remove("per_device_eval_batch_size")
                    data__training__perdeviceevalbatchsize = data__training["per_device_eval_batch_size"]
                    if not isinstance(data__training__perdeviceevalbatchsize, (int)) and not (isinstance(data__training__perdeviceevalbatchsize, float) and data__training__perdeviceevalbatchsize.is_integer()) or isinstance(data__training__perdeviceevalbatchsize, bool):
                        raise JsonSchemaValueException
                    if isinstance(data__training__perdeviceevalbatchsize, (int, float, Decimal)) and not isinstance(data__training__perdeviceevalbatchsize, bool):
                        if data__training__perdeviceevalbatchsize < 0:
                            raise JsonSchemaValueException
                if "gradient_accumulation_steps" in data__training_keys:
                    data__training_keys.remove("gradient_accumulation_steps")
                    data__training__gradientaccumulationsteps = data__training["gradient_accumulation_steps"]
                    if not isinstance(data__training__gradientaccumulationsteps, (int)) and not (isinstance(data__training__gradientaccumulationsteps, float) and data__training__gradientaccumulationsteps.is_integer()) or isinstance(data__training__gradientaccumulationsteps, bool):
                        raise JsonSchemaValueException
                    if isinstance(data__training__gradientaccumulationsteps, (int, float, Decimal)) and not isinstance(data__training__gradientaccumulationsteps, bool):
                        if data__training__gradientaccumulationsteps < 0:
                            raise JsonSchemaValueException
                if "warmup_steps" in data__training_keys:
                    data__training_keys.remove("warmup_steps")
                    data__training__warmupsteps = data__training["warmup_steps"]
                    if not isinstance(data__training__warmupsteps, (int)) and not (isinstance(data__training__warmupsteps, float) and data__training__warmupsteps.is_integer()) or isinstance(data__training__warmupsteps, bool):
                        raise JsonSchemaValueException
                    if isinstance(data__training__warmupsteps, (int, float, Decimal)) and not isinstance(data__training__warmupsteps, bool):
                        if data__training__warmupsteps < 0:
                            raise JsonSchemaValueException
                if "seed" in data__training_keys:
                    data__training_keys.remove("seed")
                    data__training__seed = data__training["seed"]
                    if not isinstance(data__training__seed, (int)) and not (isinstance(data__training__seed, float) and data__training__seed.is_integer()) or isinstance(data__training__seed, bool):
                        raise JsonSchemaValueException
                    if isinstance(data__training__seed, (int, float, Decimal)) and not isinstance(data__training__seed, bool):
                        if data__training__seed < 0:
                            raise JsonSchemaValueException
                if "eval_steps" in data__training_keys:
                    data__training_keys.remove("eval_steps")
                    data__training__evalsteps = data__training["eval_steps"]
                    if not isinstance(data__training__evalsteps, (int)) and not (isinstance(data__training__evalsteps, float) and data__training__evalsteps.is_integer()) or isinstance(data__training__evalsteps, bool):
                        raise JsonSchemaValueException
                    if isinstance(data__training__evalsteps, (int, float, Decimal)) and not isinstance(data__training__evalsteps, bool):
                        if data__training__evalsteps < 0:
                            raise JsonSchemaValueException
                if "save_steps" in data__training_keys:
                    data__training_keys.remove("save_steps")
                    data__training__savesteps = data__training["save_steps"]
                    if not isinstance(data__training__savesteps, (int)) and not (isinstance(data__training__savesteps, float) and data__training__savesteps.is_integer()) or isinstance(data__training__savesteps, bool):
                        raise JsonSchemaValueException
                    if isinstance(data__training__savesteps, (int, float, Decimal)) and not isinstance(data__training__savesteps, bool):
                        if data__training__savesteps < 0:
                            raise JsonSchemaValueException
                if "save_total_limit" in data__training_keys:
                    data__training_keys.remove("save_total_limit")
                    data__training__savetotallimit = data__training["save_total_limit"]
                    if not isinstance(data__training__savetotallimit, (int)) and not (isinstance(data__training__savetotallimit, float) and data__training__savetotallimit.is_integer()) or isinstance(data__training__savetotallimit, bool):
                        raise JsonSchemaValueException
                    if isinstance(data__training__savetotallimit, (int, float, Decimal)) and not isinstance(data__training__savetotallimit, bool):
                        if data__training__savetotallimit < 0:
                            raise JsonSchemaValueException
                if "logging_steps" in data__training_keys:
                    data__training_keys.remove("logging_steps")
                    data__training__loggingsteps = data__training["logging_steps"]
                    if not isinstance(data__training__loggingsteps, (int)) and not (isinstance(data__training__loggingsteps, float) and data__training__loggingsteps.is_integer()) or isinstance(data__training__loggingsteps, bool):
                        raise JsonSchemaValueException
                    if isinstance(data__training__loggingsteps, (int, float, Decimal)) and not isinstance(data__training__loggingsteps, bool):
                        if data__training__loggingsteps < 0:
                            raise JsonSchemaValueException
                if "max_length" in data__training_keys:
                    data__training_keys.remove("max_length")
                    data__training__maxlength = data__training["max_length"]
                    if not isinstance(data__training__maxlength, (int)) and not (isinstance(data__training__maxlength, float) and data__training__maxlength.is_integer()) or isinstance(data__training__maxlength, bool):
                        raise JsonSchemaValueException
                    if isinstance(data__training__maxlength, (int, float, Decimal)) and not isinstance(data__training__maxlength, bool):
                        if data__training__maxlength < 0:
                            raise JsonSchemaValueException
                if "lr_scheduler_type" in data__training_keys:
                    data__training_keys.remove("lr_scheduler_type")
                    data__training__lrschedulertype = data__training["lr_scheduler_type"]
                    if not isinstance(data__training__lrschedulertype, (str)):
                        raise JsonSchemaValueException
                if "save_strategy" in data__training_keys:
                    data__training_keys.remove("save_strategy")
                    data__training__savestrategy = data__training["save_strategy"]
                    if not isinstance(data__training__savestrategy, (str)):
                        raise JsonSchemaValueException
                if "optim" in data__training_keys:
                    data__training_keys.remove("optim")
                    data__training__optim = data__training["optim"]
                    if not isinstance(data__training__optim, (str)):
                        raise JsonSchemaValueException
                if "gradient_checkpointing" in data__training_keys:
                    data__training_keys.remove("gradient_checkpointing")
                    data__training__gradientcheckpointing = data__training["gradient_checkpointing"]
                    if not isinstance(data__training__gradientcheckpointing, (bool)):
                        raise JsonSchemaValueException
                if "dtype" in data__training_keys:
                    data__training_keys.remove("dtype")
                    data__training__dtype = data__training["dtype"]
                    if not (isinstance(data__training__dtype, str) and data__training__dtype == 'fp16' or isinstance(data__training__dtype, str) and data__training__dtype == 'bf16' or isinstance(data__training__dtype, str) and data__training__dtype == 'fp32'):
                        raise JsonSchemaValueException
                if "num_gpus" in data__training_keys:
                    data__training_keys.remove("num_gpus")
                    data__training__numgpus = data__training["num_gpus"]
                    if not isinstance(data__training__numgpus, (int, NoneType)) and not (isinstance(data__training__numgpus, float) and data__training__numgpus.is_integer()) or isinstance(data__training__numgpus, bool):
                        raise JsonSchemaValueException
                    if isinstance(data__training__numgpus, (int, float, Decimal)) and not isinstance(data__training__numgpus, bool):
                        if data__training__numgpus < 1:
                            raise JsonSchemaValueException
                if "total_train_batch_size" in data__training_keys:
                    data__training_keys.remove("total_train_batch_size")
                    data__training__totaltrainbatchsize = data__training["total_train_batch_size"]
                    if not isinstance(data__training__totaltrainbatchsize, (int, NoneType)) and not (isinstance(data__training__totaltrainbatchsize, float) and data__training__totaltrainbatchsize.is_integer()) or isinstance(data__training__totaltrainbatchsize, bool):
                        raise JsonSchemaValueException
                    if isinstance(data__training__totaltrainbatchsize, (int, float, Decimal)) and not isinstance(data__training__totaltrainbatchsize, bool):
                        if data__training__totaltrainbatchsize < 1:
                            raise JsonSchemaValueException
                if "beta" in data__training_keys:
                    data__training_keys.remove("beta")
                    data__training__beta = data__training["beta"]
                    if not isinstance(data__training__beta, (int, float, Decimal)) or isinstance(data__training__beta, bool):
                        raise JsonSchemaValueException
                    if isinstance(data__training__beta, (int, float, Decimal)) and not isinstance(data__training__beta, bool):
                        if data__training__beta <= 0:
                            raise JsonSchemaValueException
                if "loss_type" in data__training_keys:
                    data__training_keys.remove("loss_type")
                    data__training__losstype = data__training["loss_type"]
                    if not isinstance(data__training__losstype, (str, list)):
                        raise JsonSchemaValueException
                    data__training__losstype_is_list = isinstance(data__training__losstype, (list))
                    if data__training__losstype_is_list:
                        data__training__losstype_len = len(data__training__losstype)
                        for data__training__losstype_x, data__training__losstype_item in enumerate(data__training__losstype):
                            if not isinstance(data__training__losstype_item, (str)):
                                raise JsonSchemaValueException
                if "simpo_gamma" in data__training_keys:
                    data__training_keys.remove("simpo_gamma")
                    data__training__simpogamma = data__training["simpo_gamma"]
                    if not isinstance(data__training__simpogamma, (int, float, Decimal)) or isinstance(data__training__simpogamma, bool):
                        raise JsonSchemaValueException
                if "label_smoothing" in data__training_keys:
                    data__training_keys.remove("label_smoothing")
                    data__training__labelsmoothing = data__training["label_smoothing"]
                    if not isinstance(data__training__labelsmoothing, (int, float, Decimal)) or isinstance(data__training__labelsmoothing, bool):
                        raise JsonSchemaValueException
                    if isinstance(data__training__labelsmoothing, (int, float, Decimal)) and not isinstance(data__training__labelsmoothing, bool):
                        if data__training__labelsmoothing < 0:
                            raise JsonSchemaValueException
                        if data__training__labelsmoothing > 0.5:
                            raise JsonSchemaValueException
                if "max_prompt_length" in data__training_keys:
                    data__training_keys.remove("max_prompt_length")
                    data__training__maxpromptlength = data__training["max_prompt_length"]
                    if not isinstance(data__training__maxpromptlength, (int)) and not (isinstance(data__training__maxpromptlength, float) and data__training__maxpromptlength.is_integer()) or isinstance(data__training__maxpromptlength, bool):
                        raise JsonSchemaValueException
                    if isinstance(data__training__maxpromptlength, (int, float, Decimal)) and not isinstance(data__training__maxpromptlength, bool):
                        if data__training__maxpromptlength < 1:
                            raise JsonSchemaValueException
                if "max_completion_length" in data__training_keys:
                    data__training_keys.remove("max_completion_length")
                    data__training__maxcompletionlength = data__training["max_completion_length"]
                    if not isinstance(data__training__maxcompletionlength, (int)) and not (isinstance(data__training__maxcompletionlength, float) and data__training__maxcompletionlength.is_integer()) or isinstance(data__training__maxcompletionlength, bool):
                        raise JsonSchemaValueException
                    if isinstance(data__training__maxcompletionlength, (int, float, Decimal)) and not isinstance(data__training__maxcompletionlength, bool):
                        if data__training__maxcompletionlength < 1:
                            raise JsonSchemaValueException
                if "desirable_weight" in data__training_keys:
                    data__training_keys.remove("desirable_weight")
                    data__training__desirableweight = data__training["desirable_weight"]
                    if not isinstance(data__training__desirableweight, (int, float, Decimal)) or isinstance(data__training__desirableweight, bool):
                        raise JsonSchemaValueException
                    if isinstance(data__training__desirableweight, (int, float, Decimal)) and not isinstance(data__training__desirableweight, bool):
                        if data__training__desirableweight <= 0:
                            raise JsonSchemaValueException
                if "undesirable_weight" in data__training_keys:
                    data__training_keys.remove("undesirable_weight")
                    data__training__undesirableweight = data__training["undesirable_weight"]
                    if not isinstance(data__training__undesirableweight, (int, float, Decimal)) or isinstance(data__training__undesirableweight, bool):
                        raise JsonSchemaValueException
                    if isinstance(data__training__undesirableweight, (int, float, Decimal)) and not isinstance(data__training__undesirableweight, bool):
                        if data__training__undesirableweight <= 0:
                            raise JsonSchemaValueException
        if "trainer" in data_keys:
            data_keys.remove("trainer")
            data__trainer = data["trainer"]
            if not isinstance(data__trainer, (dict)):
                raise JsonSchemaValueException
            data__trainer_is_dict = isinstance(data__trainer, dict)
            if data__trainer_is_dict:
                data__trainer__missing_keys = set(['name']) - data__trainer.keys()
                if data__trainer__missing_keys:
                    raise JsonSchemaValueException
                data__trainer_keys = set(data__trainer.keys())
                if "name" in data__trainer_keys:
                    data__trainer_keys.remove("name")
                    data__trainer__name = data__trainer["name"]
                    if not isinstance(data__trainer__name, (str)):
                        raise JsonSchemaValueException
                if "configs" in data__trainer_keys:
                    data__trainer_keys.remove("configs")
                    data__trainer__configs = data__trainer["configs"]
                    if not isinstance(data__trainer__configs, (list)):
                        raise JsonSchemaValueException
                    data__trainer__configs_is_list = isinstance(data__trainer__configs, (list))
                    if data__trainer__configs_is_list:
                        data__trainer__configs_len = len(data__trainer__configs)
                        for data__trainer__configs_x, data__trainer__configs_item in enumerate(data__trainer__configs):
                            if not isinstance(data__trainer__configs_item, (str)):
                                raise JsonSchemaValueException
                if "missing_configs" in data__trainer_keys:
                    data__trainer_keys.remove("missing_configs")
                    data__trainer__missingconfigs = data__trainer["missing_configs"]
                    if not isinstance(data__trainer__missingconfigs, (list)):
                        raise JsonSchemaValueException
                    data__trainer__missingconfigs_is_list = isinstance(data__trainer__missingconfigs, (list))
                    if data__trainer__missingconfigs_is_list:
                        data__trainer__missingconfigs_len = len(data__trainer__missingconfigs)
                        for data__trainer__missingconfigs_x, data__trainer__missingconfigs_item in enumerate(data__trainer__missingconfigs):
                            if not isinstance(data__trainer__missingconfigs_item, (str)):
                                raise JsonSchemaValueException
                if "options" in data__trainer_keys:
                    data__trainer_keys.remove("options")
                    data__trainer__options = data__trainer["options"]
                    if not isinstance(data__trainer__options, (dict)):
                        raise JsonSchemaValueException
        if "deepspeed" in data_keys:
            data_keys.remove("deepspeed")
            data__deepspeed = data["deepspeed"]
            if not isinstance(data__deepspeed, (dict)):
                raise JsonSchemaValueException
            data__deepspeed_is_dict = isinstance(data__deepspeed, dict)
            if data__deepspeed_is_dict:
                data__deepspeed_keys = set(data__deepspeed.keys())
                if "config" in data__deepspeed_keys:
                    data__deepspeed_keys.remove("config")
                    data__deepspeed__config = data__deepspeed["config"]
                    if not isinstance(data__deepspeed__config, (dict, NoneType)):
                        raise JsonSchemaValueException
                if "stage" in data__deepspeed_keys:
                    data__deepspeed_keys.remove("stage")
                    data__deepspeed__stage = data__deepspeed["stage"]
                    if not isinstance(data__deepspeed__stage, (int, NoneType)) and not (isinstance(data__deepspeed__stage, float) and data__deepspeed__stage.is_integer()) or isinstance(data__deepspeed__stage, bool):
                        raise JsonSchemaValueException
                    if not (isinstance(data__deepspeed__stage, (int, float)) and not isinstance(data__deepspeed__stage, bool) and data__deepspeed__stage == 0 or isinstance(data__deepspeed__stage, (int, float)) and not isinstance(data__deepspeed__stage, bool) and data__deepspeed__stage == 1 or isinstance(data__deepspeed__stage, (int, float)) and not isinstance(data__deepspeed__stage, bool) and data__deepspeed__stage == 2 or isinstance(data__deepspeed__stage, (int, float)) and not isinstance(data__deepspeed__stage, bool) and data__deepspeed__stage == 3 or data__deepspeed__stage is None):
                        raise JsonSchemaValueException
                if "config_ref" in data__deepspeed_keys:
                    data__deepspeed_keys.remove("config_ref")
                    data__deepspeed__configref = data__deepspeed["config_ref"]
                    if not isinstance(data__deepspeed__configref, (str, NoneType)):
                        raise JsonSchemaValueException
        if "peft" in data_keys:
            data_keys.remove("peft")
            data__peft = data["peft"]
            if not isinstance(data__peft, (dict)):
                raise JsonSchemaValueException
            data__peft_is_dict = isinstance(data__peft, dict)
            if data__peft_is_dict:
                data__peft__missing_keys = set(['type']) - data__peft.keys()
                if data__peft__missing_keys:
                    raise JsonSchemaValueException
                data__peft_keys = set(data__peft.keys())
                if "type" in data__peft_keys:
                    data__peft_keys.remove("type")
                    data__peft__type = data__peft["type"]
                    if not isinstance(data__peft__type, (str)):
                        raise JsonSchemaValueException
                if "r" in data__peft_keys:
                    data__peft_keys.remove("r")
                    data__peft__r = data__peft["r"]
                    if not isinstance(data__peft__r, (int)) and not (isinstance(data__peft__r, float) and data__peft__r.is_integer()) or isinstance(data__peft__r, bool):
                        raise JsonSchemaValueException
                if "lora_alpha" in data__peft_keys:
                    data__peft_keys.remove("lora_alpha")
                    data__peft__loraalpha = data__peft["lora_alpha"]
                    if not isinstance(data__peft__loraalpha, (int, float, Decimal)) or isinstance(data__peft__loraalpha, bool):
                        raise JsonSchemaValueException
                if "lora_dropout" in data__peft_keys:
                    data__peft_keys.remove("lora_dropout")
                    data__peft__loradropout = data__peft["lora_dropout"]
                    if not isinstance(data__peft__loradropout, (int, float, Decimal)) or isinstance(data__peft__loradropout, bool):
                        raise JsonSchemaValueException
                if "target_modules" in data__peft_keys:
                    data__peft_keys.remove("target_modules")
                    data__peft__targetmodules = data__peft["target_modules"]
                    if not isinstance(data__peft__targetmodules, (list, str)):
                        raise JsonSchemaValueException
        if "quantization" in data_keys:
            data_keys.remove("quantization")
            data__quantization = data["quantization"]
            if not isinstance(data__quantization, (dict)):
                raise JsonSchemaValueException
            data__quantization_is_dict = isinstance(data__quantization, dict)
            if data__quantization_is_dict:
                data__quantization__missing_keys = set(['method']) - data__quantization.keys()
                if data__quantization__missing_keys:
                    raise JsonSchemaValueException
                data__quantization_keys = set(data__quantization.keys())
                if "method" in data__quantization_keys:
                    data__quantization_keys.remove("method")
                    data__quantization__method = data__quantization["method"]
                    if not isinstance(data__quantization__method, (str)):
                        raise JsonSchemaValueException
                if "load_in_8bit" in data__quantization_keys:
                    data__quantization_keys.remove("load_in_8bit")
                    data__quantization__loadin8bit = data__quantization["load_in_8bit"]
                    if not isinstance(data__quantization__loadin8bit, (bool)):
                        raise JsonSchemaValueException
                if "load_in_4bit" in data__quantization_keys:
                    data__quantization_keys.remove("load_in_4bit")
                    data__quantization__loadin4bit = data__quantization["load_in_4bit"]
                    if not isinstance(data__quantization__loadin4bit, (bool)):
                        raise JsonSchemaValueException
                if "llm_int8_threshold" in data__quantization_keys:
                    data__quantization_keys.remove("llm_int8_threshold")
                    data__quantization__llmint8threshold = data__quantization["llm_int8_threshold"]
                    if not isinstance(data__quantization__llmint8threshold, (int, float, Decimal)) or isinstance(data__quantization__llmint8threshold, bool):
                        raise JsonSchemaValueException
        if "generation" in data_keys:
            data_keys.remove("generation")
            data__generation = data["generation"]
            if not isinstance(data__generation, (dict)):
                raise JsonSchemaValueException
            data__generation_is_dict = isinstance(data__generation, dict)
            if data__generation_is_dict:
                data__generation_keys = set(data__generation.keys())
                if "max_new_tokens" in data__generation_keys:
                    data__generation_keys.remove("max_new_tokens")
                    data__generation__maxnewtokens = data__generation["max_new_tokens"]
                    if not isinstance(data__generation__maxnewtokens, (int)) and not (isinstance(data__generation__maxnewtokens, float) and data__generation__maxnewtokens.is_integer()) or isinstance(data__generation__maxnewtokens, bool):
                        raise JsonSchemaValueException
                if "do_sample" in data__generation_keys:
                    data__generation_keys.remove("do_sample")
                    data__generation__dosample = data__generation["do_sample"]
                    if not isinstance(data__generation__dosample, (bool)):
                        raise JsonSchemaValueException
                if "top_p" in data__generation_keys:
                    data__generation_keys.remove("top_p")
                    data__generation__topp = data__generation["top_p"]
                    if not isinstance(data__generation__topp, (int, float, Decimal)) or isinstance(data__generation__topp, bool):
                        raise JsonSchemaValueException
                if "top_k" in data__generation_keys:
                    data__generation_keys.remove("top_k")
                    data__generation__topk = data__generation["top_k"]
                    if not isinstance(data__generation__topk, (int)) and not (isinstance(data__generation__topk, float) and data__generation__topk.is_integer()) or isinstance(data__generation__topk, bool):
                        raise JsonSchemaValueException
                if "temperature" in data__generation_keys:
                    data__generation_keys.remove("temperature")
                    data__generation__temperature = data__generation["temperature"]
                    if not isinstance(data__generation__temperature, (int, float, Decimal)) or isinstance(data__generation__temperature, bool):
                        raise JsonSchemaValueException
                if "repetition_penalty" in data__generation_keys:
                    data__generation_keys.remove("repetition_penalty")
                    data__generation__repetitionpenalty = data__generation["repetition_penalty"]
                    if not isinstance(data__generation__repetitionpenalty, (int, float, Decimal)) or isinstance(data__generation__repetitionpenalty, bool):
                        raise JsonSchemaValueException
                if "eos_token_id" in data__generation_keys:
                    data__generation_keys.remove("eos_token_id")
                    data__generation__eostokenid = data__generation["eos_token_id"]
                    if not isinstance(data__generation__eostokenid, (int, list)) and not (isinstance(data__generation__eostokenid, float) and data__generation__eostokenid.is_integer()) or isinstance(data__generation__eostokenid, bool):
                        raise JsonSchemaValueException
                if "bos_token_id" in data__generation_keys:
                    data__generation_keys.remove("bos_token_id")
                    data__generation__bostokenid = data__generation["bos_token_id"]
                    if not isinstance(data__generation__bostokenid, (int)) and not (isinstance(data__generation__bostokenid, float) and data__generation__bostokenid.is_integer()) or isinstance(data__generation__bostokenid, bool):
                        raise JsonSchemaValueException
                if "pad_token_id" in data__generation_keys:
                    data__generation_keys.remove("pad_token_id")
                    data__generation__padtokenid = data__generation["pad_token_id"]
                    if not isinstance(data__generation__padtokenid, (int)) and not (isinstance(data__generation__padtokenid, float) and data__generation__padtokenid.is_integer()) or isinstance(data__generation__padtokenid, bool):
                        raise JsonSchemaValueException
        if "command" in data_keys:
            data_keys.remove("command")
            data__command = data["command"]
            if not isinstance(data__command, (dict)):
                raise JsonSchemaValueException
            data__command_is_dict = isinstance(data__command, dict)
            if data__command_is_dict:
                data__command_keys = set(data__command.keys())
                if "launcher" in data__command_keys:
                    data__command_keys.remove("launcher")
                    data__command__launcher = data__command["launcher"]
                    if not isinstance(data__command__launcher, (str, NoneType)):
                        raise JsonSchemaValueException
                if "script" in data__command_keys:
                    data__command_keys.remove("script")
                    data__command__script = data__command["script"]
                    if not isinstance(data__command__script, (str)):
                        raise JsonSchemaValueException
                if "args" in data__command_keys:
                    data__command_keys.remove("args")
                    data__command__args = data__command["args"]
                    if not isinstance(data__command__args, (list)):
                        raise JsonSchemaValueException
                    data__command__args_is_list = isinstance(data__command__args, (list))
                    if data__command__args_is_list:
                        data__command__args_len = len(data__command__args)
                        for data__command__args_x, data__command__args_item in enumerate(data__command__args):
                            if not isinstance(data__command__args_item, (str)):
                                raise JsonSchemaValueException
        if "environment" in data_keys:
            data_keys.remove("environment")
            data__environment = data["environment"]
            if not isinstance(data__environment, (dict)):
                raise JsonSchemaValueException
            data__environment_is_dict = isinstance(data__environment, dict)
            if data__environment_is_dict:
                data__environment_keys = set(data__environment.keys())
                for data__environment_key in data__environment_keys:
                    if data__environment_key not in []:
                        data__environment_value = data__environment.get(data__environment_key)
                        if not isinstance(data__environment_value, (str)):
                            raise JsonSchemaValueException
        if "conflicts" in data_keys:
            data_keys.remove("conflicts")
            data__conflicts = data["conflicts"]
            if not isinstance(data__conflicts, (list)):
                raise JsonSchemaValueException
            data__conflicts_is_list = isinstance(data__conflicts, (list))
            if data__conflicts_is_list:
                data__conflicts_len = len(data__conflicts)
                for data__conflicts_x, data__conflicts_item in enumerate(data__conflicts):
                    if not isinstance(data__conflicts_item, (dict)):
                        raise JsonSchemaValueException
                    data__conflicts_item_is_dict = isinstance(data__conflicts_item, dict)
                    if data__conflicts_item_is_dict:
                        data__conflicts_item__missing_keys = set(['kind', 'path', 'values']) - data__conflicts_item.keys()
                        if data__conflicts_item__missing_keys:
                            raise JsonSchemaValueException
                        data__conflicts_item_keys = set(data__conflicts_item.keys())
                        if "kind" in data__conflicts_item_keys:
                            data__conflicts_item_keys.remove("kind")
                            data__conflicts_item__kind = data__conflicts_item["kind"]
                            if not isinstance(data__conflicts_item__kind, (str)):
                                raise JsonSchemaValueException
                        if "path" in data__conflicts_item_keys:
                            data__conflicts_item_keys.remove("path")
                            data__conflicts_item__path = data__conflicts_item["path"]
                            if not isinstance(data__conflicts_item__path, (str)):
                                raise JsonSchemaValueException
                        if "values" in data__conflicts_item_keys:
                            data__conflicts_item_keys.remove("values")
                            data__conflicts_item__values = data__conflicts_item["values"]
                            if not isinstance(data__conflicts_item__values, (list)):
                                raise JsonSchemaValueException
                        if "resolution" in data__conflicts_item_keys:
                            data__conflicts_item_keys.remove("resolution")
                            data__conflicts_item__resolution = data__conflicts_item["resolution"]
                            if not isinstance(data__conflicts_item__resolution, (str)):
                                raise JsonSchemaValueException
        if "hygiene" in data_keys:
            data_keys.remove("hygiene")
            data__hygiene = data["hygiene"]
            if not isinstance(data__hygiene, (dict)):
                raise JsonSchemaValueException
            data__hygiene_is_dict = isinstance(data__hygiene, dict)
            if data__hygiene_is_dict:
                data__hygiene_keys = set(data__hygiene.keys())
                if "secrets" in data__hygiene_keys:
                    data__hygiene_keys.remove("secrets")
                    data__hygiene__secrets = data__hygiene["secrets"]
                    if not isinstance(data__hygiene__secrets, (list)):
                        raise JsonSchemaValueException
                    data__hygiene__secrets_is_list = isinstance(data__hygiene__secrets, (list))
                    if data__hygiene__secrets_is_list:
                        data__hygiene__secrets_len = len(data__hygiene__secrets)
                        for data__hygiene__secrets_x, data__hygiene__secrets_item in enumerate(data__hygiene__secrets):
                            if not isinstance(data__hygiene__secrets_item, (dict)):
                                raise JsonSchemaValueException
                            data__hygiene__secrets_item_is_dict = isinstance(data__hygiene__secrets_item, dict)
                            if data__hygiene__secrets_item_is_dict:
                                data__hygiene__secrets_item__missing_keys = set(['line', 'kind']) - data__hygiene__secrets_item.keys()
                                if data__hygiene__secrets_item__missing_keys:
                                    raise JsonSchemaValueException
                if "absolute_paths" in data__hygiene_keys:
                    data__hygiene_keys.remove("absolute_paths")
                    data__hygiene__absolutepaths = data__hygiene["absolute_paths"]
                    if not isinstance(data__hygiene__absolutepaths, (list)):
                        raise JsonSchemaValueException
                    data__hygiene__absolutepaths_is_list = isinstance(data__hygiene__absolutepaths, (list))
                    if data__hygiene__absolutepaths_is_list:
                        data__hygiene__absolutepaths_len = len(data__hygiene__absolutepaths)
                        for data__hygiene__absolutepaths_x, data__hygiene__absolutepaths_item in enumerate(data__hygiene__absolutepaths):
                            if not isinstance(data__hygiene__absolutepaths_item, (dict)):
                                raise JsonSchemaValueException
                            data__hygiene__absolutepaths_item_is_dict = isinstance(data__hygiene__absolutepaths_item, dict)
                            if data__hygiene__absolutepaths_item_is_dict:
                                data__hygiene__absolutepaths_item__missing_keys = set(['line', 'path']) - data__hygiene__absolutepaths_item.keys()
                                if data__hygiene__absolutepaths_item__missing_keys:
                                    raise JsonSchemaValueException
                if "truncated" in data__hygiene_keys:
                    data__hygiene_keys.remove("truncated")
                    data__hygiene__truncated = data__hygiene["truncated"]
                    if not isinstance(data__hygiene__truncated, (list)):
                        raise JsonSchemaValueException
                    data__hygiene__truncated_is_list = isinstance(data__hygiene__truncated, (list))
                    if data__hygiene__truncated_is_list:
                        data__hygiene__truncated_len = len(data__hygiene__truncated)
                        for data__hygiene__truncated_x, data__hygiene__truncated_item in enumerate(data__hygiene__truncated):
                            if not isinstance(data__hygiene__truncated_item, (dict)):
                                raise JsonSchemaValueException
                            data__hygiene__truncated_item_is_dict = isinstance(data__hygiene__truncated_item, dict)
                            if data__hygiene__truncated_item_is_dict:
                                data__hygiene__truncated_item__missing_keys = set(['path', 'line', 'kept', 'left_out']) - data__hygiene__truncated_item.keys()
                                if data__hygiene__truncated_item__missing_keys:
                                    raise JsonSchemaValueException
                                data__hygiene__truncated_item_keys = set(data__hygiene__truncated_item.keys())
                                if "path" in data__hygiene__truncated_item_keys:
                                    data__hygiene__truncated_item_keys.remove("path")
                                    data__hygiene__truncated_item__path = data__hygiene__truncated_item["path"]
                                    if not isinstance(data__hygiene__truncated_item__path, (str)):
                                        raise JsonSchemaValueException
                                if "line" in data__hygiene__truncated_item_keys:
                                    data__hygiene__truncated_item_keys.remove("line")
                                    data__hygiene__truncated_item__line = data__hygiene__truncated_item["line"]
                                    if not isinstance(data__hygiene__truncated_item__line, (int, NoneType)) and not (isinstance(data__hygiene__truncated_item__line, float) and data__hygiene__truncated_item__line.is_integer()) or isinstance(data__hygiene__truncated_item__line, bool):
                                        raise JsonSchemaValueException
                                    if isinstance(data__hygiene__truncated_item__line, (int, float, Decimal)) and not isinstance(data__hygiene__truncated_item__line, bool):
                                        if data__hygiene__truncated_item__line < 0:
                                            raise JsonSchemaValueException
                                if "kept" in data__hygiene__truncated_item_keys:
                                    data__hygiene__truncated_item_keys.remove("kept")
                                    data__hygiene__truncated_item__kept = data__hygiene__truncated_item["kept"]
                                    if not isinstance(data__hygiene__truncated_item__kept, (int)) and not (isinstance(data__hygiene__truncated_item__kept, float) and data__hygiene__truncated_item__kept.is_integer()) or isinstance(data__hygiene__truncated_item__kept, bool):
                                        raise JsonSchemaValueException
                                    if isinstance(data__hygiene__truncated_item__kept, (int, float, Decimal)) and not isinstance(data__hygiene__truncated_item__kept, bool):
                                        if data__hygiene__truncated_item__kept < 0:
                                            raise JsonSchemaValueException
                                if "left_out" in data__hygiene__truncated_item_keys:
                                    data__hygiene__truncated_item_keys.remove("left_out")
                                    data__hygiene__truncated_item__leftout = data__hygiene__truncated_item["left_out"]
                                    if not isinstance(data__hygiene__truncated_item__leftout, (int)) and not (isinstance(data__hygiene__truncated_item__leftout, float) and data__hygiene__truncated_item__leftout.is_integer()) or isinstance(data__hygiene__truncated_item__leftout, bool):
                                        raise JsonSchemaValueException
                                    if isinstance(data__hygiene__truncated_item__leftout, (int, float, Decimal)) and not isinstance(data__hygiene__truncated_item__leftout, bool):
                                        if data__hygiene__truncated_item__leftout < 1:
                                            raise JsonSchemaValueException
                                if data__hygiene__truncated_item_keys:
                                    raise JsonSchemaValueException
        if "provenance" in data_keys:
            data_keys.remove("provenance")
            data__provenance = data["provenance"]
            if not isinstance(data__provenance, (dict)):
                raise JsonSchemaValueException
            data__provenance_is_dict = isinstance(data__provenance, dict)
            if data__provenance_is_dict:
                data__provenance_keys = set(data__provenance.keys())
                for data__provenance_key in data__provenance_keys:
                    if data__provenance_key not in []:
                        data__provenance_value = data__provenance.get(data__provenance_key)
                        if not isinstance(data__provenance_value, (dict)):
                            raise JsonSchemaValueException
                        data__provenance_value_is_dict = isinstance(data__provenance_value, dict)
                        if data__provenance_value_is_dict:
                            data__provenance_value__missing_keys = set(['origin', 'line', 'text']) - data__provenance_value.keys()
                            if data__provenance_value__missing_keys:
                                raise JsonSchemaValueException
                            data__provenance_value_keys = set(data__provenance_value.keys())
                            if "origin" in data__provenance_value_keys:
                                data__provenance_value_keys.remove("origin")
                                data__provenance_value__origin = data__provenance_value["origin"]
                                if not isinstance(data__provenance_value__origin, (str)):
                                    raise JsonSchemaValueException
                                if isinstance(data__provenance_value__origin, str):
                                    if not REGEX_PATTERNS['^(card|cli|derived|default:[a-z0-9\\-]+)$'].search(data__provenance_value__origin):
                                        raise JsonSchemaValueException
                            if "line" in data__provenance_value_keys:
                                data__provenance_value_keys.remove("line")
                                data__provenance_value__line = data__provenance_value["line"]
                                if not isinstance(data__provenance_value__line, (int, NoneType)) and not (isinstance(data__provenance_value__line, float) and data__provenance_value__line.is_integer()) or isinstance(data__provenance_value__line, bool):
                                    raise JsonSchemaValueException
                                if isinstance(data__provenance_value__line, (int, float, Decimal)) and not isinstance(data__provenance_value__line, bool):
                                    if data__provenance_value__line < 0:
                                        raise JsonSchemaValueException
                            if "text" in data__provenance_value_keys:
                                data__provenance_value_keys.remove("text")
                                data__provenance_value__text = data__provenance_value["text"]
                                if not isinstance(data__provenance_value__text, (str, NoneType)):
                                    raise JsonSchemaValueException
                            if "rule" in data__provenance_value_keys:
                                data__provenance_value_keys.remove("rule")
                                data__provenance_value__rule = data__provenance_value["rule"]
                                if not isinstance(data__provenance_value__rule, (str)):
                                    raise JsonSchemaValueException
                            if data__provenance_value_keys:
                                raise JsonSchemaValueException
    return data

# the patterns as written, as jsonschema runs them
REGEX_PATTERNS = {pattern: re.compile(pattern) for pattern in REGEX_PATTERNS}


def fits(doc):
    """True when `doc` fits the schema (no message: jsonschema names the errors)."""
    try:
        validate_https___cardrepro_dev_schemas_spec_schema_json(doc)
    except JsonSchemaValueException:
        return False
    return True
